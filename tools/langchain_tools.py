"""A domain's tools as LangChain tools for `ToolNode`, run on the current sandbox.

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

from langchain_core.tools import BaseTool, StructuredTool

from .declare import ToolSet
from .execute import ToolExecutor

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

        return run

    return [
        StructuredTool(
            name=t.name, description=t.description, args_schema=t.parameters, func=bind(t.name)
        )
        for t in toolset
    ]
