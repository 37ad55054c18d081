"""A domain tool as a plain Python function: named after the tool, with a signature and a
Google-style docstring made from its OpenAI schema. MCP's server SDK and TRL's
`environment_factory` both read tools that way (the signature's annotations and the
docstring's `Args:` become the schema a model sees)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def annotation(schema: dict[str, Any]) -> Any:
    """The Python type for a JSON-schema property (Any where it is not one plain type)."""
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _TYPES:
        return _TYPES[kind]
    return Any


def tool_function(
    schema: dict[str, Any],
    impl: Callable[[str, dict[str, Any]], Any],
    *,
    typed: bool = True,
    method: bool = False,
) -> Callable[..., Any]:
    """A function `name(**arguments)` calling `impl(name, arguments)` (arguments left out
    are not passed). `typed`: annotations from the schema (else `Any`, leaving validation
    to the tool); `method`: a `self` parameter first (for a class body)."""
    fn_schema = schema.get("function", schema)
    name = fn_schema["name"]
    params = fn_schema.get("parameters") or {}
    properties: dict[str, Any] = params.get("properties") or {}
    required = set(params.get("required") or [])
    parameters = (
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] if method else []
    )
    annotations: dict[str, Any] = {}
    # required ones first: a signature cannot put a parameter without default after one with
    for arg in sorted(properties, key=lambda a: a not in required):
        kind = annotation(properties[arg]) if typed else Any
        if arg in required:
            parameters.append(
                inspect.Parameter(arg, inspect.Parameter.KEYWORD_ONLY, annotation=kind)
            )
            annotations[arg] = kind
        else:
            optional = kind | None if kind is not Any else Any
            parameters.append(
                inspect.Parameter(
                    arg, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=optional
                )
            )
            annotations[arg] = optional
    annotations["return"] = str

    def call(*args: Any, **kwargs: Any) -> Any:
        arguments = {k: v for k, v in kwargs.items() if v is not None or k in required}
        return impl(name, arguments) if not method else impl(args[0], name, arguments)

    call.__name__ = call.__qualname__ = name
    call.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
    call.__annotations__ = annotations
    call.__doc__ = docstring(fn_schema)
    return call


def docstring(fn_schema: dict[str, Any]) -> str:
    """Google style: the description, then `Args:` with each argument's description."""
    description = (fn_schema.get("description") or fn_schema["name"]).strip()
    properties = (fn_schema.get("parameters") or {}).get("properties") or {}
    lines = [description]
    if properties:
        lines += ["", "Args:"]
        for arg, prop in properties.items():
            text = " ".join(str(prop.get("description") or arg).split())
            lines.append(f"    {arg}: {text}")
    lines += ["", "Returns:", "    The tool's result (JSON text), or an error message."]
    return "\n".join(lines)
