"""One accepted trajectory as a training row: APIGen-MT-5k ShareGPT, or OpenAI messages.

A transcript in the store is LangChain messages (user turns, agent turns with tool calls,
tool results). The user's closing ###STOP### carries nothing to learn and is dropped.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from apigen_mt.agents import is_stop


def _trimmed(messages: list[BaseMessage]) -> list[BaseMessage]:
    end = len(messages)
    while (
        end
        and isinstance(messages[end - 1], HumanMessage)
        and is_stop(str(messages[end - 1].content))
    ):
        end -= 1
    return messages[:end]


def sharegpt_row(messages: list[BaseMessage], policy: str, tools: list[dict]) -> dict[str, Any]:
    """`conversations` of {from: human|gpt|function_call|observation, value}, `system`
    (the policy) and `tools` (a JSON string of {name, description, parameters})."""
    turns: list[dict[str, str]] = []
    for m in _trimmed(messages):
        if isinstance(m, HumanMessage):
            turns.append({"from": "human", "value": str(m.content)})
        elif isinstance(m, AIMessage):
            if str(m.content).strip():
                turns.append({"from": "gpt", "value": str(m.content)})
            for call in m.tool_calls:
                value = json.dumps({"name": call["name"], "arguments": call["args"]})
                turns.append({"from": "function_call", "value": value})
        elif isinstance(m, ToolMessage):
            turns.append({"from": "observation", "value": str(m.content)})
    return {
        "conversations": turns,
        "system": policy,
        "tools": json.dumps([_function(t) for t in tools]),
    }


def openai_row(messages: list[BaseMessage], policy: str, tools: list[dict]) -> dict[str, Any]:
    """Chat-completions messages (system, user, assistant with tool_calls, tool) and tools,
    the shape TRL's SFTTrainer and LLaMA-Factory read."""
    out: list[dict[str, Any]] = [{"role": "system", "content": policy}]
    for m in _trimmed(messages):
        if isinstance(m, HumanMessage):
            out.append({"role": "user", "content": str(m.content)})
        elif isinstance(m, AIMessage):
            entry: dict[str, Any] = {"role": "assistant", "content": str(m.content) or None}
            if m.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": json.dumps(c["args"])},
                    }
                    for c in m.tool_calls
                ]
            out.append(entry)
        elif isinstance(m, ToolMessage):
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": str(m.content)})
    return {
        "messages": out,
        "tools": [{"type": "function", "function": _function(t)} for t in tools],
    }


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    f = tool.get("function", tool)
    return {
        "name": f["name"],
        "description": f.get("description", ""),
        "parameters": f["parameters"],
    }
