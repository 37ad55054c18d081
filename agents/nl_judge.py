"""NL judge: grades a finished conversation against a τ² task's natural-language assertions
("the agent refuses to cancel the order"), one verdict per assertion with its reason.

τ²'s NL_ASSERTION reward component: 1 only when every assertion is met. It sees the whole
conversation (the user, the agent, tool calls and results, as "role: content" lines, as τ²
renders it) and runs at temperature 0 on any endpoint (the `nl_judge` role's settings).
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from .structured import StructuredRole


class AssertionVerdict(BaseModel):
    expectedOutcome: str = Field(description="The assertion graded, repeated from the input.")
    reasoning: str = Field(description="A short explanation of the verdict.")
    metExpectation: bool = Field(description="True when the conversation satisfies it.")


class NLVerdicts(BaseModel):
    results: list[AssertionVerdict]


class NLJudgeInput(BaseModel):
    conversation: str  # "role: content" lines
    assertions: list[str]


SYSTEM = """You grade a conversation between a customer-service agent and a customer, \
collected during a test. You are given expected outcomes; decide for each one, on its own, \
whether the agent satisfies it in this conversation. Reply with one JSON object \
{"results": [...]}, one entry per expected outcome, in the order given: expectedOutcome \
(repeat it), reasoning (a short explanation), metExpectation (true or false)."""


def nl_judge_prompt(x: NLJudgeInput) -> list[BaseMessage]:
    listed = "\n".join(f"- {a}" for a in x.assertions)
    return [
        SystemMessage(SYSTEM),
        HumanMessage(f"conversation:\n{x.conversation}\n\nexpectedOutcomes:\n{listed}"),
    ]


def make_nl_judge(model: BaseChatModel) -> StructuredRole[NLJudgeInput, NLVerdicts]:
    return StructuredRole("nl_judge", model, NLVerdicts, nl_judge_prompt)


def verdicts_for(assertions: list[str], answer: NLVerdicts) -> list[dict]:
    """One verdict per assertion, matched by text (then by position); an assertion the
    judge left out is not met."""
    by_text = {r.expectedOutcome.strip(): r for r in answer.results}
    out = []
    for i, assertion in enumerate(assertions):
        found = by_text.get(assertion.strip())
        if found is None and i < len(answer.results):
            found = answer.results[i]
        out.append(
            {
                "assertion": assertion,
                "met": bool(found and found.metExpectation),
                "why": found.reasoning if found else "the judge gave no verdict for it",
            }
        )
    return out
