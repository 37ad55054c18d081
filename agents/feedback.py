"""Feedback: turns every failure reason and review into an improvement plan."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from .structured import StructuredRole


class FeedbackPlan(BaseModel):
    summary: str = Field(
        description="Where the checks and reviewers agree and disagree.",
        json_schema_extra={"maxLength": 400},  # for grammar servers (structured.py)
    )
    plan: list[str] = Field(description="Concrete changes for the next blueprint, in order.")

    def render(self) -> str:
        return self.summary + "\n" + "\n".join(f"{i + 1}. {p}" for i, p in enumerate(self.plan))


class FeedbackInput(BaseModel):
    blueprint: str  # JSON
    reasons: list[str]  # failure reasons from format, execution and policy checks
    reviews: list[str]  # committee reviews, rendered
    records: str = ""  # the sampled user and records, to name real ids and values
    tools: str = ""  # the domain's tools, one line each
    policy: str = ""  # the rules a blueprint must keep


SYSTEM = """A proposed customer-service task failed validation. Read the failure reasons and \
the reviews, summarise where they agree and disagree, and write a short, actionable plan \
that fixes every problem in the next proposal (name the exact tool, argument or value to \
change). Reply with one JSON object: summary, plan (a list of steps)."""


def feedback_prompt(x: FeedbackInput) -> list[BaseMessage]:
    reasons = "\n".join(f"- {r}" for r in x.reasons) or "(none)"
    reviews = "\n".join(f"- {r}" for r in x.reviews) or "(none)"
    return [
        SystemMessage(SYSTEM),
        HumanMessage(
            f"## Blueprint\n{x.blueprint}\n\n## Failure reasons\n{reasons}\n\n## Reviews\n{reviews}"
            f"\n\n## The user and their records\n{x.records or '(not available)'}"
            f"\n\n## Tools\n{x.tools or '(not available)'}"
            f"\n\n## Policy\n{x.policy or '(not available)'}"
        ),
    ]


def make_feedback(model: BaseChatModel) -> StructuredRole[FeedbackInput, FeedbackPlan]:
    return StructuredRole("feedback", model, FeedbackPlan, feedback_prompt)
