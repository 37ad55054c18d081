"""Request judge (optional, `--request-judge`): does the simulated user ask for something
its instruction does not contain? One call per user turn, so off by default; a verdict of
yes flags the turn (`asks_beyond_instruction`) and puts a failed dialogue on the user's side.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from .structured import StructuredRole


class RequestVerdict(BaseModel):
    reasoning: str = Field(
        description="One or two sentences.", json_schema_extra={"maxLength": 300}
    )
    asks_beyond_instruction: bool


class RequestInput(BaseModel):
    instruction: str
    reply: str


SYSTEM = """A simulated customer follows a private instruction. Decide whether its reply \
asks the agent for something the instruction does not contain (another order, another \
change, a different outcome). Answering the agent's questions, confirming, thanking and \
saying goodbye are not requests. Reply with one JSON object: reasoning, \
asks_beyond_instruction (true or false)."""


def request_prompt(x: RequestInput) -> list[BaseMessage]:
    return [
        SystemMessage(SYSTEM),
        HumanMessage(f"## Instruction\n{x.instruction}\n\n## The customer's reply\n{x.reply}"),
    ]


def make_request_judge(model: BaseChatModel) -> StructuredRole[RequestInput, RequestVerdict]:
    return StructuredRole("human_judge", model, RequestVerdict, request_prompt)
