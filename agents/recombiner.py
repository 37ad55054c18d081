"""Recombiner: one natural instruction for the merged actions of several tasks."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from .structured import StructuredRole


class CombinedInstruction(BaseModel):
    reasoning: str = Field(
        description="How the requests fit together in one conversation.",
        json_schema_extra={"maxLength": 300},  # for grammar servers (structured.py)
    )
    instruction: str


class RecombineInput(BaseModel):
    instructions: list[str]
    actions: str  # JSON of the concatenated actions
    outputs: list[str]
    persona: str


SYSTEM = """Several tasks of the same customer are merged into one longer conversation. Write \
one instruction to the user ("You are ... You want ...") that asks for everything the \
combined actions do, in the order of the combined actions (the order the agent will carry \
them out), keeps every identity detail and value the agent needs, fits the persona, and \
never names tools. Reply with one \
JSON object: reasoning, instruction."""


def recombine_prompt(x: RecombineInput) -> list[BaseMessage]:
    tasks = "\n".join(f"{i + 1}. {t}" for i, t in enumerate(x.instructions))
    return [
        SystemMessage(SYSTEM),
        HumanMessage(
            f"## Instructions to merge\n{tasks}\n\n## Combined actions\n{x.actions}\n\n"
            f"## Facts the agent must tell\n{x.outputs}\n\n## Persona\n{x.persona}"
        ),
    ]


def make_recombiner(model: BaseChatModel) -> StructuredRole[RecombineInput, CombinedInstruction]:
    return StructuredRole("recombiner", model, CombinedInstruction, recombine_prompt)
