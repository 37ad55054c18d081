"""The simulated user of a dual-control domain (τ²'s telecom): it talks to the agent and
acts on its own side of the world with its own tools (its phone), which the agent cannot
see or touch. A reply is text for the agent, or tool calls on the user's side whose
results only the user sees.

Messages of the user's side are marked `additional_kwargs["side"] == "user"` in the
transcript: the user's tool calls (an AIMessage from the user's point of view) and their
results. The agent's view leaves them out; the user's view leaves out the agent's tools.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from .human import STOP
from .structured import RoleFailure, call_role

USER_SIDE = "user"

# Our protocol's instructions for a user with tools (τ²'s protocol uses τ²'s own
# simulation_guidelines_tools.md instead).
TOOLS_GUIDE = """You are a customer talking to a support agent in a chat, about a problem \
with your own device. Play the customer described below; never say you are an AI.

Your instruction (private - do not paste it):
{instruction}

How to act:
- Write one short message at a time, as the customer would.
- You have tools that act on your own device (check it, change its settings). The agent \
cannot see or touch your device: when the agent asks you to check or do something on it, \
use your tools, then tell the agent what they showed. Never make up what your device shows.
- Do only what the agent asks or what your instruction says; if unsure, ask the agent.
- Reveal only what the current step needs; never invent ids, names or numbers.
- When everything in your instruction is done (or cannot be done), reply with only {stop}"""


def is_user_side(message: BaseMessage) -> bool:
    return message.additional_kwargs.get("side") == USER_SIDE


def user_side(message: BaseMessage) -> BaseMessage:
    """The message marked as the user's own (a tool call of theirs, or its result)."""
    message.additional_kwargs["side"] = USER_SIDE
    return message


def agent_view(messages: list[BaseMessage]) -> list[BaseMessage]:
    """What the agent sees: everything but the user's side."""
    return [m for m in messages if not is_user_side(m)]


def acting_user_view(messages: list[BaseMessage]) -> list[BaseMessage]:
    """The conversation from the user's side, for its model: the agent's words as the
    other party's (human) turns, the user's own words and tool calls as its (AI) turns,
    and its tools' results; the agent's tool traffic is not the user's to see."""
    out: list[BaseMessage] = []
    for m in messages:
        if is_user_side(m):
            if isinstance(m, AIMessage):
                out.append(AIMessage(str(m.content or ""), tool_calls=m.tool_calls))
            elif isinstance(m, ToolMessage):
                out.append(ToolMessage(str(m.content), tool_call_id=m.tool_call_id, name=m.name))
        elif isinstance(m, HumanMessage):
            out.append(AIMessage(str(m.content)))
        elif isinstance(m, AIMessage) and m.text.strip():
            out.append(HumanMessage(m.text))
    return out


class ActingUser:
    """One step of the user: text, or tool calls on its side (its model bound to them)."""

    name = "human"

    def __init__(self, model: BaseChatModel, system: str, tools: list[dict[str, Any]]):
        self.system = SystemMessage(system)
        self.model = model.bind_tools(tools) if tools else model

    def prompt(self, messages: list[BaseMessage]) -> list[BaseMessage]:
        view = acting_user_view(messages)
        if not view or not isinstance(view[0], HumanMessage):  # the agent greets first
            view.insert(0, HumanMessage("Hi! How can I help you today?"))
        return [self.system, *view]

    async def ainvoke(
        self, messages: list[BaseMessage], config: RunnableConfig | None = None
    ) -> AIMessage | RoleFailure:
        return await call_role(self.name, self.model, self.prompt(messages), config)


def acting_user_system(instruction: str, guidelines: str | None = None) -> str:
    """The user's system prompt: τ²'s tool guidelines with the scenario (its protocol), or
    ours."""
    if guidelines is not None:
        return f"{guidelines}\n\n<scenario>\n{instruction}\n</scenario>".strip()
    return TOOLS_GUIDE.format(instruction=instruction, stop=STOP)
