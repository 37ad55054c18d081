"""Human: the simulated user. Knows its instruction and persona, never the tools."""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel

from .structured import RoleFailure, call_role, transport_failure

STOP = "###STOP###"
GREETING = "Hi! How can I help you today?"


class Turn(BaseModel):
    speaker: Literal["user", "agent"]
    text: str


class HumanInput(BaseModel):
    instruction: str
    persona: str = ""
    transcript: list[Turn] = []


SYSTEM = """You are a customer talking to a support agent in a chat. Play the customer \
described below; never say you are an AI.

Your instruction (private - do not paste it):
{instruction}
{persona}
How to talk:
- Write one short message at a time, as the customer would.
- Reveal only what the current step needs: details come out when the agent asks for them.
- Never invent ids, names, numbers or wishes that are not in your instruction. If asked \
for something you do not know, say you do not know.
- Answer the agent's questions; when the agent asks you to confirm an action that matches \
your instruction, say yes.
- When everything in your instruction is done (or cannot be done), reply with only \
{stop}"""


def human_prompt(x: HumanInput) -> list[BaseMessage]:
    persona = f"\nYour persona: {x.persona}\n" if x.persona else ""
    messages: list[BaseMessage] = [
        SystemMessage(SYSTEM.format(instruction=x.instruction, persona=persona, stop=STOP))
    ]
    # From the simulator's side the agent is the other party: its turns are "human" messages.
    turns = x.transcript or [Turn(speaker="agent", text=GREETING)]
    for t in turns:
        messages.append(HumanMessage(t.text) if t.speaker == "agent" else AIMessage(t.text))
    return messages


class HumanSimulator:
    name = "human"

    def __init__(self, model: BaseChatModel):
        self.model = model

    async def ainvoke(
        self, x: HumanInput, config: RunnableConfig | None = None
    ) -> str | RoleFailure:
        reply = await call_role(self.name, self.model, human_prompt(x), config)
        return reply if isinstance(reply, RoleFailure) else _text(reply)

    def invoke(self, x: HumanInput, config: RunnableConfig | None = None) -> str | RoleFailure:
        try:
            reply = self.model.invoke(human_prompt(x), config=_named(config))
        except Exception as exc:
            return transport_failure(self.name, exc)
        return _text(reply)


def is_stop(text: str) -> bool:
    return STOP in text


def _text(message: BaseMessage) -> str:
    return message.content.strip() if isinstance(message.content, str) else str(message.content)


def _named(config: RunnableConfig | None) -> RunnableConfig:
    return {"run_name": "human", **(config or {})}  # type: ignore[return-value]


def make_human(model: BaseChatModel) -> HumanSimulator:
    return HumanSimulator(model)
