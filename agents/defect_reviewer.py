"""Defect reviewer: judges a blueprint against the six classes of defect τ³'s maintainers
fixed by hand in τ²'s retail and airline tasks, and names the class it finds.

A committee member (`register_defect_reviewer`, or `generate --defect-reviewer`): its
verdict is a Review like the other judges' (so the vote counts it), with `defect` naming
the class and the reflection saying why; a defect zeroes the criterion it breaks.
"""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field

from .reviewer import Review, ReviewInput
from .structured import RoleFailure, StructuredRole

DefectClass = Literal[
    "none",
    "wrong_expected_actions",
    "ambiguous_instruction",
    "impossible_constraints",
    "policy_loophole",
    "missing_fallback",
    "data_error",
]
DEFECTS: dict[str, str] = {
    "wrong_expected_actions": "the ground-truth calls do not do what the instruction asks "
    "(a wrong id, item, amount or reason, a missing or extra write)",
    "ambiguous_instruction": "the instruction allows more than one reasonable outcome, so "
    "a correct agent could end in another state",
    "impossible_constraints": "the instruction's constraints contradict each other or the "
    "records, so no conversation can satisfy them",
    "policy_loophole": "the ground truth only works by bending the policy (or the policy "
    "forbids what the ground truth does)",
    "missing_fallback": "the instruction does not say what the user wants when the first "
    "wish cannot be met, though the ground truth depends on it",
    "data_error": "the instruction's facts (names, ids, amounts, dates) disagree with the records",
}
# Which review criterion each defect breaks.
BREAKS = {
    "wrong_expected_actions": "correctness",
    "ambiguous_instruction": "completeness",
    "impossible_constraints": "satisfaction",
    "policy_loophole": "correctness",
    "missing_fallback": "completeness",
    "data_error": "correctness",
}


class DefectVerdict(BaseModel):
    reflection: str = Field(
        description="Check the task against each class.", json_schema_extra={"maxLength": 400}
    )
    defect: DefectClass
    explanation: str = Field(
        "", description="What is wrong and how to fix it.", json_schema_extra={"maxLength": 300}
    )


class DefectReview(Review):
    defect: str = "none"


SYSTEM = "\n".join(
    [
        "You audit a proposed customer-service task for a training dataset before anyone "
        "trains on it. You see the user instruction, the ground-truth tool calls, the "
        "records, what each call returned, the database changes, the tools and the policy. "
        "Look-ups, authentication and confirmations are left out of the ground truth on "
        "purpose. Decide whether the task has one of these defects:",
        *(f"- {name}: {text}" for name, text in DEFECTS.items()),
        "Answer `none` when it has none. Reply with one JSON object: reflection, defect, "
        "explanation.",
    ]
)


def defect_prompt(x: ReviewInput) -> list[BaseMessage]:
    return [
        SystemMessage(SYSTEM),
        HumanMessage(
            f"## Blueprint\n{x.blueprint}\n\n## Records\n{x.records or '(not available)'}\n\n"
            f"## What each call returned\n{x.trace or '(not available)'}\n\n"
            f"## Database changes\n{x.diff}\n\n## Tools\n{x.tools}\n\n## Policy\n{x.policy}"
        ),
    ]


def as_review(v: DefectVerdict) -> DefectReview:
    scores = {"correctness": 1, "completeness": 1, "satisfaction": 1, "creativity": 1}
    if v.defect != "none":
        scores[BREAKS[v.defect]] = 0
    why = f"defect: {v.defect}. {v.reflection}".strip()
    return DefectReview(
        reflection=why[:300], correction=v.explanation[:300], defect=v.defect, **scores
    )


class DefectReviewer:
    def __init__(self, model: BaseChatModel):
        self.role = StructuredRole("defect_reviewer", model, DefectVerdict, defect_prompt)

    async def ainvoke(
        self, x: ReviewInput, config: RunnableConfig | None = None
    ) -> DefectReview | RoleFailure:
        verdict = await self.role.ainvoke(x, config)
        return verdict if isinstance(verdict, RoleFailure) else as_review(verdict)


def make_defect_reviewer(model: BaseChatModel) -> DefectReviewer:
    return DefectReviewer(model)
