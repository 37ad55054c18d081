"""Assistant: the agent whose conversations become training data (policy + tools)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from .structured import RoleFailure, call_role, transport_failure

SYSTEM = """{policy}

Work through the available tools. Several calls in one message run one after another, in \
the order given."""


class Assistant:
    name = "assistant"

    def __init__(
        self,
        model: BaseChatModel,
        policy: str,
        tools: list[dict[str, Any]],
        system: str | None = None,
    ):
        # `system`: a whole system prompt of its own (τ²'s, under `eval --protocol tau2`)
        self.system = SystemMessage(system or SYSTEM.format(policy=policy.strip()))
        self.tools = tools
        self.model = model.bind_tools(tools) if tools else model

    def prompt(self, messages: list[BaseMessage]) -> list[BaseMessage]:
        return [self.system, *messages]

    async def ainvoke(
        self, messages: list[BaseMessage], config: RunnableConfig | None = None
    ) -> AIMessage | RoleFailure:
        return await call_role(self.name, self.model, self.prompt(messages), config)

    def invoke(
        self, messages: list[BaseMessage], config: RunnableConfig | None = None
    ) -> AIMessage | RoleFailure:
        try:
            return self.model.invoke(self.prompt(messages), config=_named(config))
        except Exception as exc:
            return transport_failure(self.name, exc)


def _named(config: RunnableConfig | None) -> RunnableConfig:
    return {"run_name": "assistant", **(config or {})}  # type: ignore[return-value]


def make_assistant(
    model: BaseChatModel, policy: str, tools: list[dict[str, Any]], system: str | None = None
) -> Assistant:
    """The agent for a domain: its policy as system prompt, its tools bound for calling."""
    return Assistant(model, policy, tools, system)
