"""Response schemas in the subset OpenAI's strict structured outputs accept.

`to_strict` rewrites any JSON schema (a pydantic model's, a tool's parameters) into that
subset: references inlined, every object closed (`additionalProperties: false`) with every
property required, a property that could be left out made nullable instead (a list or
object: required, as it can be written empty; one with a default: required with the
default named in its description), and keywords outside
the subset dropped. `strict_violations` says why a schema would be refused; vLLM, SGLang
and llama.cpp enforce the same schemas by grammar.
"""

from __future__ import annotations

import copy
import json
from typing import Any

SUPPORTED_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "description",
        "$ref",
        "$defs",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "pattern",
        "format",
        "minItems",
        "maxItems",
    }
)
MAX_DEPTH = 10  # object nesting
MAX_PROPERTIES = 5000
MAX_ENUM_VALUES = 1000


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with local `$ref`s replaced by their definitions and `$defs` removed."""
    schema = copy.deepcopy(schema)
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = inline(defs[node["$ref"].split("/")[-1]])
                extra = {k: inline(v) for k, v in node.items() if k != "$ref"}
                return {**target, **extra}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    if _accepts_null(node):
        return node
    description = node.get("description")
    inner = {k: v for k, v in node.items() if k != "description"}
    out: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if description:
        out["description"] = f"{description} (null to leave it out)"
    return out


def _accepts_null(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_accepts_null(b) for b in node.get("anyOf", []) if isinstance(b, dict))


def _is_collection(node: dict[str, Any]) -> bool:
    return node.get("type") in ("array", "object")


def to_strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` in the strict subset (see the module docstring)."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items() if k in SUPPORTED_KEYWORDS and k != "$defs"}
        if "properties" in node or node.get("type") == "object":
            props = node.get("properties", {})
            required = set(node.get("required", []))
            fields = {}
            for name, sub in props.items():
                strict_sub = walk(sub)
                if name not in required:
                    if _is_collection(strict_sub) and not _accepts_null(strict_sub):
                        pass  # a list or object can always be written empty: no null
                    elif "default" in sub and sub["default"] is not None:
                        note = f"(default: {json.dumps(sub['default'])})"
                        text = strict_sub.get("description")
                        strict_sub["description"] = f"{text} {note}" if text else note
                    else:
                        strict_sub = _nullable(strict_sub)
                fields[name] = strict_sub
            out["type"] = "object"
            out["properties"] = fields
            out["required"] = list(fields)
            out["additionalProperties"] = False
        return out

    return walk(inline_refs(schema))


def strict_violations(schema: dict[str, Any]) -> list[str]:
    """Why OpenAI's strict mode would refuse `schema`; empty when it is accepted."""
    problems: list[str] = []
    totals = {"properties": 0, "enum": 0}
    defs = schema.get("$defs", {})

    def check(node: Any, path: str, depth: int) -> None:
        if not isinstance(node, dict):
            problems.append(f"{path}: not a schema object")
            return
        if "$ref" in node:
            name = str(node["$ref"]).split("/")[-1]
            if name not in defs:
                problems.append(f"{path}: unresolved $ref {node['$ref']}")
            return
        for key in node:
            if key not in SUPPORTED_KEYWORDS:
                problems.append(f"{path}: unsupported keyword {key!r}")
        if "enum" in node:
            totals["enum"] += len(node["enum"])
            if not node["enum"]:
                problems.append(f"{path}: empty enum")
        kinds = node.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "object" in kinds or "properties" in node:
            props = node.get("properties", {})
            totals["properties"] += len(props)
            if depth > MAX_DEPTH:
                problems.append(f"{path}: nested deeper than {MAX_DEPTH} objects")
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties must be false")
            missing = [p for p in props if p not in node.get("required", [])]
            if missing:
                problems.append(f"{path}: every property must be required: {missing}")
            for name, sub in props.items():
                check(sub, f"{path}.{name}", depth + 1)
        if "array" in kinds and "items" not in node:
            problems.append(f"{path}: array without items")
        if "items" in node:
            check(node["items"], f"{path}[]", depth)
        for i, branch in enumerate(node.get("anyOf", [])):
            check(branch, f"{path}|{i}", depth)
        if "type" not in node and not {"anyOf", "enum", "const"} & set(node):
            problems.append(f"{path}: no type")

    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("(root): must be an object, not anyOf")
    check(schema, "(root)", 1)
    for name, sub in defs.items():
        check(sub, f"$defs.{name}", 1)
    if totals["properties"] > MAX_PROPERTIES:
        problems.append(f"more than {MAX_PROPERTIES} properties in all")
    if totals["enum"] > MAX_ENUM_VALUES:
        problems.append(f"more than {MAX_ENUM_VALUES} enum values in all")
    return problems
