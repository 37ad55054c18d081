"""A domain's tools as LangChain tools, run on the current sandbox.

Arguments go to our executor unvalidated by LangChain, so a bad call becomes the same
`Error: ...` observation (and trace entry) as anywhere else, never an exception. The tools
are built once per tool set (building them per call was a measurable share of a dialogue's
CPU time); each call runs on the executor set with `using_executor` for the current task.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool

from .declare import ToolSet
from .execute import ERROR_PREFIX, ToolExecutor

_executor: contextvars.ContextVar[ToolExecutor | None] = contextvars.ContextVar(
    "apigen_mt_tool_executor", default=None
)
_built: dict[int, tuple[ToolSet, list[BaseTool]]] = {}


@contextmanager
def using_executor(executor: ToolExecutor) -> Iterator[None]:
    token = _executor.set(executor)
    try:
        yield
    finally:
        _executor.reset(token)


def langchain_tools(toolset: ToolSet | ToolExecutor) -> list[BaseTool]:
    """The tool set's LangChain tools (cached). Given an executor, for compatibility, they
    are bound to it instead: built fresh, usable outside `using_executor`."""
    if isinstance(toolset, ToolExecutor):
        return _build(toolset.toolset, lambda: toolset)
    cached = _built.get(id(toolset))
    if cached is None or cached[0] is not toolset:
        cached = _built[id(toolset)] = (toolset, _build(toolset, _current))
    return cached[1]


def _current() -> ToolExecutor:
    executor = _executor.get()
    if executor is None:
        raise RuntimeError("no sandbox: call tools inside using_executor(...)")
    return executor


def _build(toolset: ToolSet, executor_of) -> list[BaseTool]:
    def bind(name: str):
        def run(**arguments: Any) -> str:
            return executor_of().call(name, arguments).observation

        async def arun(**arguments: Any) -> str:
            # A sandbox call takes microseconds to milliseconds: run it on the loop rather
            # than hop to a worker thread (LangChain's default for a sync function).
            return executor_of().call(name, arguments).observation

        return run, arun

    tools = []
    for t in toolset:
        run, arun = bind(t.name)
        tools.append(
            StructuredTool(
                name=t.name,
                description=t.description,
                args_schema=t.parameters,
                func=run,
                coroutine=arun,
            )
        )
    return tools


async def run_tool_calls(
    message: AIMessage,
    toolset: ToolSet,
    executor: ToolExecutor,
    config: RunnableConfig,
) -> list[ToolMessage]:
    """Answer every call of one agent message, one after another in the order given.

    As τ-bench's environment does: each call sees the writes of the calls before it and
    gets exactly the observation it would get alone (running them concurrently on one
    sandbox made their savepoints collide). A call whose arguments are not valid JSON
    (cut off at max_tokens, or from a model without guided decoding) gets an error
    observation naming the tool, so the agent can try again.
    """
    tools = {t.name: t for t in langchain_tools(toolset)}
    answers = []
    with using_executor(executor):
        for call in _in_order(message):
            if call.get("type") == "invalid_tool_call":
                content = invalid_call_observation(call)
            elif call["name"] in tools:
                answer = await tools[call["name"]].ainvoke(call, config)
                if isinstance(answer, ToolMessage):
                    answers.append(answer)
                    continue
                content = str(answer)  # a call without an id gets plain content back
            else:  # unknown tool: the executor's own error text and trace entry
                content = executor.call(str(call["name"]), call["args"]).observation
            answers.append(
                ToolMessage(content, tool_call_id=call["id"] or "", name=str(call["name"] or ""))
            )
    return answers


def invalid_call_observation(call: dict[str, Any]) -> str:
    raw = str(call.get("args") or "")
    shown = raw if len(raw) <= 200 else raw[:200] + "…"
    return (
        f"{ERROR_PREFIX}the arguments of {call.get('name') or 'the tool call'} are not valid "
        f"JSON ({shown!r}); call the tool again with complete JSON arguments"
    )


def _in_order(message: AIMessage) -> list[dict[str, Any]]:
    """Valid and invalid calls together: in the order the model wrote them where the raw
    calls are kept (`additional_kwargs["tool_calls"]`), else the valid ones in their order
    and then the invalid ones (langchain-openai 1.x keeps only the parsed lists; an invalid
    call runs nothing, so only the position of its error answer moves)."""
    calls = [{**c, "type": "tool_call"} for c in message.tool_calls]
    calls += [dict(c) for c in message.invalid_tool_calls]
    raw = message.additional_kwargs.get("tool_calls") or []
    position = {c.get("id"): i for i, c in enumerate(raw) if isinstance(c, dict)}
    return sorted(calls, key=lambda c: position.get(c.get("id"), len(position)))
