"""Human judge: sees every candidate reply of the simulated user at once and scores each
0-10 for faithfulness to the task and the persona; the best is sent.

One call for N candidates (rather than N calls for one each): fewer calls, and a sharper
choice, since the judge compares the replies instead of scoring each in isolation. The
response schema is built for N (fields `candidate_1` … `candidate_N`), so a grammar-
constrained server returns exactly one score per candidate.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, create_model

from .structured import StructuredRole

# An enum, not minimum/maximum: grammar-constrained local models ignore numeric bounds.
Score = Literal[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


class JudgeScores(BaseModel):
    """Base of the per-N schemas: the reasoning, then `candidate_<i>` scores."""

    reasoning: str = Field(description="Two or three sentences comparing the candidates.")

    def scores(self) -> list[int]:
        fields = sorted(
            (k for k in type(self).model_fields if k.startswith("candidate_")),
            key=lambda k: int(k.split("_")[1]),
        )
        return [getattr(self, k) for k in fields]


class JudgeInput(BaseModel):
    instruction: str
    persona: str = ""
    transcript: str  # the conversation so far, rendered
    candidates: list[str]


SYSTEM = """You judge candidate replies of a simulated customer and score each 0-10. The \
customer follows a private instruction and has a persona. 10: what that customer would say \
now - faithful to the instruction and the persona, revealing only what the current step \
needs, inventing nothing, answering the agent's question, natural. Score low for replies \
that contradict the instruction, invent facts, end the conversation before the goal is met, \
or copy the instruction verbatim. Compare the candidates with each other. Reply with one \
JSON object: reasoning, then candidate_1, candidate_2, ... (one score each)."""


def judge_prompt(x: JudgeInput) -> list[BaseMessage]:
    listed = "\n\n".join(f"### Candidate {i}\n{c}" for i, c in enumerate(x.candidates, 1))
    return [
        SystemMessage(SYSTEM),
        HumanMessage(
            f"## Instruction\n{x.instruction}\n\n## Persona\n{x.persona or '(none)'}\n\n"
            f"## Conversation so far\n{x.transcript}\n\n## Candidate replies\n{listed}"
        ),
    ]


@lru_cache(maxsize=32)
def judge_schema(n: int) -> type[JudgeScores]:
    """The response schema for `n` candidates: one required 0-10 score each."""
    fields = {f"candidate_{i}": (Score, ...) for i in range(1, n + 1)}
    return create_model(f"JudgeScores{n}", __base__=JudgeScores, **fields)


def make_human_judge(model: BaseChatModel, n: int = 4) -> StructuredRole[JudgeInput, JudgeScores]:
    return StructuredRole("human_judge", model, judge_schema(n), judge_prompt)
