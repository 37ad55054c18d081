"""A domain's tools as LangChain tools bound to one sandbox's executor, for `ToolNode`.

Arguments go to our executor unvalidated by LangChain, so a bad call becomes the same
`Error: ...` observation (and trace entry) as anywhere else, never an exception.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from .execute import ToolExecutor


def langchain_tools(executor: ToolExecutor) -> list[BaseTool]:
    def bind(name: str):
        def run(**arguments: Any) -> str:
            return executor.call(name, arguments).observation

        return run

    return [
        StructuredTool(
            name=t.name, description=t.description, args_schema=t.parameters, func=bind(t.name)
        )
        for t in executor.toolset
    ]
