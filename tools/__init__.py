"""How tools are declared and executed against a sandboxed database (no domain, no LLM)."""

from .declare import Tool, ToolError, ToolSet, ToolUnavailable, as_sent, tool
from .execute import ERROR_PREFIX, ToolCall, ToolExecutor, TraceEntry

__all__ = [
    "ERROR_PREFIX",
    "Tool",
    "ToolCall",
    "ToolError",
    "ToolExecutor",
    "ToolSet",
    "ToolUnavailable",
    "TraceEntry",
    "as_sent",
    "tool",
]
