"""The proposer's response schema for one sampled context.

Only real tools can be named, each action's arguments follow that tool's own schema, the
user id is the sampled one, and id-like arguments the domain declares are enums of the
ids in the sampled records. Strict endpoints and grammar-constrained servers then cannot
produce an invented tool, argument or id; the format check still judges the rest.
"""

from __future__ import annotations

import copy
from typing import Any

from .strict_schema import to_strict


def action_schema(
    tool: dict[str, Any], choices: dict[str, list[str]], requestor: str | None = None
) -> dict[str, Any]:
    """`{name: <this tool>, arguments: <its parameters>}` as a closed object; with a
    `requestor` (dual control), also `requestor: <whose tool it is>`."""
    function = tool.get("function", tool)
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    arguments = restrict_ids(to_strict(parameters), choices)
    properties: dict[str, Any] = {
        "name": {"type": "string", "const": function["name"]},
        "arguments": arguments,
    }
    if requestor is not None:
        properties["requestor"] = {"type": "string", "const": requestor}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def restrict_ids(schema: dict[str, Any], choices: dict[str, list[str]]) -> dict[str, Any]:
    """A copy where each string property named in `choices` (or array of strings) takes
    only the listed values; names with no values are left free."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for v in node:
                walk(v)
            return
        if not isinstance(node, dict):
            return
        for name, sub in (node.get("properties") or {}).items():
            values = choices.get(name)
            if values:
                _limit(sub, sorted(set(values)))
        for key in ("properties", "items", "anyOf"):
            if key in node:
                walk(list(node[key].values()) if key == "properties" else node[key])

    walk(schema)
    return schema


def _limit(node: dict[str, Any], values: list[str]) -> None:
    if "enum" in node or "const" in node:
        return  # the tool already fixes its values
    if node.get("type") == "string":
        node["enum"] = values
    elif node.get("type") == "integer":  # a world's integer ids (the choices come as text)
        numbers = sorted({int(v) for v in values if v.lstrip("-").isdigit()})
        if numbers:
            node["enum"] = numbers
    elif node.get("type") == "array" and (node.get("items") or {}).get("type") == "string":
        _limit(node["items"], values)
    for branch in node.get("anyOf", []):  # a nullable id
        if isinstance(branch, dict):
            _limit(branch, values)


def blueprint_schema(
    base: dict[str, Any],
    tools: list[dict[str, Any]],
    user_id: str | None,
    choices: dict[str, list[str]],
    user_tools: list[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The strict Blueprint schema `base` narrowed to one context. With `user_tools` (dual
    control) each action also names its requestor, fixed by whose tool it names."""
    schema = copy.deepcopy(base)
    props = schema["properties"]
    if user_id is not None:
        props["user_id"] = {"type": "string", "const": user_id}
    if tools:
        side = "assistant" if user_tools else None
        branches = [action_schema(t, choices, side) for t in tools]
        branches += [action_schema(t, choices, "user") for t in user_tools]
        props["actions"] = {
            "type": "array",
            "description": props["actions"].get("description", "The gold tool calls, in order."),
            "minItems": 1,
            "items": {"anyOf": branches},
        }
    return schema


def drop_unset_arguments(arguments: dict[str, Any], tool: dict[str, Any] | None) -> dict[str, Any]:
    """Arguments without the nulls a strict schema forced for optional parameters."""
    if tool is None:
        return arguments
    required = set((tool.get("function", tool).get("parameters") or {}).get("required", []))
    return {k: v for k, v in arguments.items() if v is not None or k in required}
