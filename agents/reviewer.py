"""Reviewer: one committee judge scoring a blueprint on four 0/1 criteria."""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, model_validator

from .structured import StructuredRole

CRITERIA = ("correctness", "completeness", "satisfaction", "creativity")


class Review(BaseModel):
    reflection: str = Field(
        description="Brief check of the actions against the instruction.",
        json_schema_extra={"maxLength": 300},  # for grammar servers (structured.py)
    )
    correctness: Literal[0, 1]
    completeness: Literal[0, 1]
    satisfaction: Literal[0, 1]
    creativity: Literal[0, 1]
    total: int = 0
    correction: str = Field(
        "", description="What to change, if anything.", json_schema_extra={"maxLength": 300}
    )

    @model_validator(mode="after")
    def _total_is_the_sum(self) -> Review:
        # Small models mis-add; the sum is what counts.
        self.total = sum(getattr(self, c) for c in CRITERIA)
        return self


class ReviewInput(BaseModel):
    blueprint: str  # JSON
    tools: str  # names and descriptions
    diff: str  # rendered database changes of the gold actions
    policy: str  # the rules a blueprint can break (not those only a conversation can meet)
    records: str = ""  # the sampled user and records the blueprint was built from
    trace: str = ""  # each gold call with what it returned


SYSTEM = """You review a proposed customer-service task for a training dataset. You see the \
user instruction, the ground-truth tool calls, the expected outputs, the records the task \
was built from, what each call returned, the database changes, the tools and the policy.

The ground-truth calls deliberately leave out look-ups, authentication and confirmation \
turns: the agent makes those in the conversation. Do not mark a blueprint down for them.

Score each criterion 1 (yes) or 0 (no):
- correctness: the calls and outputs do exactly what the instruction asks, with the right \
ids and values, and the policy allows them.
- completeness: the instruction gives the user every detail the agent will need, and \
nothing the actions do is missing from it.
- satisfaction: a user following the instruction would be satisfied by this outcome.
- creativity: the task is realistic and not a trivial or repetitive request.
Reflect briefly first. Suggest a concrete correction when any score is 0. Reply with one \
JSON object: reflection, correctness, completeness, satisfaction, creativity, total, \
correction."""


def review_prompt(x: ReviewInput) -> list[BaseMessage]:
    return [
        SystemMessage(SYSTEM),
        HumanMessage(
            f"## Blueprint\n{x.blueprint}\n\n## Records it was built from\n"
            f"{x.records or '(not available)'}\n\n## What each call returned\n"
            f"{x.trace or '(not available)'}\n\n## Database changes\n{x.diff}\n\n"
            f"## Tools\n{x.tools}\n\n## Policy\n{x.policy}\n\nReview it now."
        ),
    ]


def make_reviewer(
    model: BaseChatModel, name: str = "reviewer"
) -> StructuredRole[ReviewInput, Review]:
    return StructuredRole(name, model, Review, review_prompt)
