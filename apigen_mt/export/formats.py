"""One accepted trajectory as a training row: APIGen-MT-5k ShareGPT, or OpenAI messages.

A transcript in the store is LangChain messages (user turns, agent turns with tool calls,
tool results). The user's closing ###STOP### carries nothing to learn and is dropped.

ShareGPT rows follow what LLaMA-Factory's `sharegpt` converter accepts and its
`FunctionFormatter` renders (0.9.5): turns alternate strictly — `human`/`observation` at
even positions, `gpt`/`function_call` at odd ones — and a row ends with the agent, or the
converter drops it as broken data. So one agent message is always one turn:

- one call, no text: `function_call` with `{"name", "arguments"}` (APIGen-MT-5k's shape);
- several calls: one `function_call` whose value is a JSON list of `{name, arguments}`,
  and their results one `observation` turn, a JSON list in call order (results that are
  JSON stay objects, others stay strings);
- text beside calls: the text, then the calls inside `<tool_call>…</tool_call>` in the same
  `function_call` value. LLaMA-Factory parses the JSON between those words and renders
  the text before the calls in the model's own tool-call format.

Dual control (τ²'s telecom): the user also acts on their own side with their own tools.
Those calls are never the agent's, so they never become assistant tool calls or
`function_call` turns: the agent's messages and the user's words stay exactly what the
agent saw (the agent learns from what it would see), and what the user did rides along
in the row's `user_actions`: for each user turn that followed actions of the user's, its
position (`message_index` in OpenAI `messages`, `turn_index` in ShareGPT `conversations`)
and the calls with their results, `{name, arguments, result}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from apigen_mt.agents import is_stop
from apigen_mt.agents.acting_user import is_user_side

Arguments = Literal["object", "string"]
USER_SIDE, AGENT_SIDE = ("human", "observation"), ("gpt", "function_call")
TOOL_CALL_WORDS = ("<tool_call>", "</tool_call>")  # LLaMA-Factory's default tool_call_words


def _user_actions(messages: list[BaseMessage]) -> list[list[dict[str, Any]]]:
    """For each user text turn, in order: the user's own tool calls just before it."""
    out: list[list[dict[str, Any]]] = []
    pending: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for m in _trimmed(messages):
        if is_user_side(m) and isinstance(m, AIMessage):
            for c in m.tool_calls:
                action = {"name": c["name"], "arguments": c["args"], "result": None}
                pending.append(action)
                by_id[c.get("id") or ""] = action
        elif is_user_side(m) and isinstance(m, ToolMessage):
            action = by_id.pop(m.tool_call_id, None)
            if action is not None:
                action["result"] = str(m.content)
        elif isinstance(m, HumanMessage):
            out.append(pending)
            pending, by_id = [], {}
    return out


def _trimmed(messages: list[BaseMessage]) -> list[BaseMessage]:
    end = len(messages)
    while (
        end
        and isinstance(messages[end - 1], HumanMessage)
        and is_stop(str(messages[end - 1].content))
    ):
        end -= 1
    return messages[:end]


@dataclass
class _Agent:
    text: str
    calls: list[dict[str, Any]] = field(default_factory=list)  # {name, args}
    results: list[str] = field(default_factory=list)  # in call order


def _turns(messages: list[BaseMessage]) -> list[str | _Agent]:
    """The conversation as user texts and agent turns (text, calls, their results).

    A call whose arguments were not valid JSON, and the error it was answered with, are
    left out: a retry follows, and a model should not learn to write broken JSON. An agent
    turn left with nothing joins the next one, so text and the calls after it stay one turn.
    """
    turns: list[str | _Agent] = []
    pending: dict[str, int] = {}  # id of a call awaiting its result -> index in its turn
    invalid: set[str] = set()
    for m in _trimmed(messages):
        if is_user_side(m):  # the user's own tool traffic: not the agent's (user_actions)
            continue
        if isinstance(m, HumanMessage):
            turns.append(str(m.content))
        elif isinstance(m, AIMessage):
            agent = _Agent(
                m.text.strip(), [{"name": c["name"], "args": c["args"]} for c in m.tool_calls]
            )
            pending = {c.get("id") or f"#{k}": k for k, c in enumerate(m.tool_calls)}
            invalid = {c.get("id") or "" for c in m.invalid_tool_calls}
            agent.results = [""] * len(agent.calls)
            previous = turns[-1] if turns else None
            if isinstance(previous, _Agent) and not previous.calls:
                agent.text = "\n\n".join(t for t in (previous.text, agent.text) if t)
                turns.pop()
            if agent.text or agent.calls:
                turns.append(agent)
        elif isinstance(m, ToolMessage) and turns and isinstance(turns[-1], _Agent):
            if m.tool_call_id in invalid:
                continue
            k = pending.pop(m.tool_call_id, None)
            if k is None and pending:  # ids missing or reused: results come in call order
                k = pending.pop(next(iter(pending)))
            if k is not None:
                turns[-1].results[k] = str(m.content)
    return turns


def sharegpt_row(messages: list[BaseMessage], policy: str, tools: list[dict]) -> dict[str, Any]:
    """`conversations` of {from: human|gpt|function_call|observation, value}, `system`
    (the policy) and `tools` (a JSON string of {name, description, parameters})."""
    out: list[dict[str, str]] = []
    acted, users, done_by_user = _user_actions(messages), 0, []
    for turn in _turns(messages):
        if isinstance(turn, str):
            if out and out[-1]["from"] == "human":  # a user speaking twice: one turn
                out[-1]["value"] += "\n\n" + turn
            else:
                out.append({"from": "human", "value": turn})
            if users < len(acted) and acted[users]:
                done_by_user.append({"turn_index": len(out) - 1, "calls": acted[users]})
            users += 1
            continue
        if not turn.calls:
            out.append({"from": "gpt", "value": turn.text})
            continue
        calls = [{"name": c["name"], "arguments": c["args"]} for c in turn.calls]
        payload = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
        if turn.text:
            payload = f"{turn.text}{TOOL_CALL_WORDS[0]}{payload}{TOOL_CALL_WORDS[1]}"
        out.append({"from": "function_call", "value": payload})
        results = turn.results
        value = results[0] if len(results) == 1 else json.dumps([_as_json(r) for r in results])
        out.append({"from": "observation", "value": value})
    while out and out[-1]["from"] in USER_SIDE:  # a row ends with the agent
        out.pop()
    lead = 0  # ... and starts with the user: an opening greeting (τ²'s protocol) goes
    while lead < len(out) and out[lead]["from"] == "gpt":
        lead += 1
    out = out[lead:]
    done_by_user = [{**a, "turn_index": a["turn_index"] - lead} for a in done_by_user]
    row = {
        "conversations": out,
        "system": policy,
        "tools": json.dumps([_function(t) for t in tools]),
    }
    if done_by_user:
        row["user_actions"] = [a for a in done_by_user if a["turn_index"] < len(out)]
    return row


def sharegpt_alternation_problem(conversations: list[dict[str, str]]) -> str | None:
    """LLaMA-Factory's rule for a `sharegpt` row, or None when the row passes it."""
    for i, turn in enumerate(conversations):
        allowed = USER_SIDE if i % 2 == 0 else AGENT_SIDE
        if turn.get("from") not in allowed:
            return f"turn {i} is {turn.get('from')!r}, expected one of {allowed}"
    if len(conversations) % 2:
        return f"odd number of turns ({len(conversations)})"
    return None


def _as_json(result: str) -> Any:
    if result[:1] in ("{", "["):
        try:
            return json.loads(result)
        except ValueError:
            pass
    return result


def openai_row(
    messages: list[BaseMessage],
    policy: str,
    tools: list[dict],
    *,
    arguments: Arguments = "object",
) -> dict[str, Any]:
    """Chat-completions messages (system, user, assistant with tool_calls, tool) and tools.

    `arguments="object"` (default) writes each call's arguments as a JSON object, what
    Hugging Face chat templates expect (they apply `tojson`: a string would be rendered
    double-encoded); `"string"` writes the OpenAI API's wire form (its fine-tuning API).
    Parallel calls stay one assistant message, each result a `tool` message with the id of
    its call (ids are assigned per row: servers reuse or omit them)."""
    out: list[dict[str, Any]] = [{"role": "system", "content": policy}]
    acted, users, done_by_user = _user_actions(messages), 0, []
    for n, turn in enumerate(_turns(messages)):
        if isinstance(turn, str):
            out.append({"role": "user", "content": turn})
            if users < len(acted) and acted[users]:
                done_by_user.append({"message_index": len(out) - 1, "calls": acted[users]})
            users += 1
            continue
        entry: dict[str, Any] = {"role": "assistant", "content": turn.text}
        if turn.calls:
            ids = [f"call_{n}_{k}" for k in range(len(turn.calls))]
            entry["tool_calls"] = [
                {
                    "id": i,
                    "type": "function",
                    "function": {
                        "name": c["name"],
                        "arguments": c["args"] if arguments == "object" else json.dumps(c["args"]),
                    },
                }
                for i, c in zip(ids, turn.calls, strict=True)
            ]
        out.append(entry)
        for i, c, result in zip(ids if turn.calls else [], turn.calls, turn.results, strict=True):
            out.append({"role": "tool", "tool_call_id": i, "name": c["name"], "content": result})
    row = {
        "messages": out,
        "tools": [{"type": "function", "function": _function(t)} for t in tools],
    }
    if done_by_user:
        row["user_actions"] = done_by_user
    return row


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    f = tool.get("function", tool)
    return {
        "name": f["name"],
        "description": f.get("description", ""),
        "parameters": f["parameters"],
    }
