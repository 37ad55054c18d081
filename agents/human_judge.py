"""Human judge: scores a candidate simulated-user reply 0-10 for faithfulness to the task."""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from .structured import StructuredRole

# An enum, not minimum/maximum: grammar-constrained local models ignore numeric bounds.
Score = Literal[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


class JudgeScore(BaseModel):
    reasoning: str = Field(description="One or two sentences.")
    score: Score


class JudgeInput(BaseModel):
    instruction: str
    transcript: str  # the conversation so far, rendered
    candidate: str


SYSTEM = """You judge one candidate reply of a simulated customer. The customer follows a \
private instruction. Score 0-10: 10 when the reply is what that customer would say now - \
faithful to the instruction, revealing only what the current step needs, inventing nothing, \
answering the agent's question, natural. Score low for replies that contradict the \
instruction, invent facts, end the conversation before the goal is met, or copy the \
instruction verbatim. Reply with one JSON object: reasoning, score."""


def judge_prompt(x: JudgeInput) -> list[BaseMessage]:
    return [
        SystemMessage(SYSTEM),
        HumanMessage(
            f"## Instruction\n{x.instruction}\n\n## Conversation so far\n{x.transcript}\n\n"
            f"## Candidate reply\n{x.candidate}"
        ),
    ]


def make_human_judge(model: BaseChatModel) -> StructuredRole[JudgeInput, JudgeScore]:
    return StructuredRole("human_judge", model, JudgeScore, judge_prompt)
