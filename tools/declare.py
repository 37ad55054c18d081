"""Declaring tools: a typed Python function becomes a schema-described, validated tool."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, get_type_hints

from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    create_model,
)


class ToolError(Exception):
    """A refusal the caller (usually an agent) should see as an observation, not a crash.

    The executor undoes the call's writes unless `keep_writes` is set: only for tools that
    must reproduce a reference implementation that writes before it fails (τ-bench).
    """

    def __init__(self, message: str, *, keep_writes: bool = False):
        super().__init__(message)
        self.keep_writes = keep_writes


class ToolUnavailable(Exception):
    """The tool could not be called at all: its server failed to start, timed out or died.

    Not an observation for the agent: it ends the episode (or fails the check) with this
    reason, and the run goes on.
    """


def as_sent(kind: Any, description: str) -> Any:
    """An argument taken exactly as the caller sent it, while its schema still says `kind`.

    For tools that must behave like reference code doing plain Python on whatever JSON
    arrives (τ-bench's): `2.0` stays a float where `int` is declared, `"3"` stays a string
    and is stored or fails as it does there. Strict domains declare plain types instead.
    """
    schema = {**_inlined(TypeAdapter(kind).json_schema()), "description": description}
    return Annotated[Any, WithJsonSchema(schema)]


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$defs` written in place of each `$ref` (a nested model's schema
    ends up inside an argument's, where a reference to the top level would dangle)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


@dataclass(frozen=True)
class Tool:
    """One callable tool: `fn(db, **arguments)` plus what an LLM needs to call it."""

    name: str
    description: str
    fn: Callable[..., Any]
    arguments_model: type[BaseModel]
    writes: bool = False
    # False for tools that keep their own undo (an MCP server writes through its own
    # connection, out of reach of the executor's savepoint).
    atomic: bool = True
    # Shown instead of the arguments model's schema when set (an MCP tool's input schema).
    schema: dict[str, Any] | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        """JSON schema of the arguments, in OpenAI function-calling shape (no titles).
        A fresh copy each time: generating it is slow, so the text is cached."""
        if self.schema is not None:
            return json.loads(json.dumps(self.schema))
        return json.loads(_schema_text(self.arguments_model))

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def validate(self, arguments: Any) -> dict[str, Any]:
        """Validated keyword arguments, or ToolError naming every problem."""
        if not isinstance(arguments, dict):
            raise ToolError(f"arguments must be a JSON object, got {type(arguments).__name__}")
        try:
            parsed = self.arguments_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(arguments)'}: {err['msg']}"
                for err in exc.errors(include_url=False, include_input=False)
            )
            raise ToolError(f"invalid arguments for {self.name}: {problems}") from None
        # Extra keys only where the model allows them (an MCP tool: its server checks).
        return {
            **{name: getattr(parsed, name) for name in type(parsed).model_fields},
            **(parsed.model_extra or {}),
        }


def tool(*, writes: bool = False, name: str | None = None) -> Callable[[Callable], Tool]:
    """Turn `def fn(db, arg: type, ...)` into a Tool; the docstring is its description.

    Argument descriptions come from `Annotated[type, Field(description=...)]` hints.
    """

    def wrap(fn: Callable[..., Any]) -> Tool:
        hints = get_type_hints(fn, include_extras=True)
        params = list(inspect.signature(fn).parameters.values())[1:]  # first is the database
        fields: dict[str, Any] = {}
        for p in params:
            if p.name not in hints:
                raise TypeError(f"tool {fn.__name__}: argument {p.name!r} needs a type hint")
            default = ... if p.default is inspect.Parameter.empty else p.default
            fields[p.name] = (hints[p.name], default)
        model = create_model(
            f"{fn.__name__}_arguments",
            __config__=ConfigDict(extra="forbid"),
            **fields,
        )
        doc = inspect.cleandoc(fn.__doc__ or "")
        return Tool(
            name=name or fn.__name__, description=doc, fn=fn, arguments_model=model, writes=writes
        )

    return wrap


@dataclass
class ToolSet:
    """A domain's tools by name, in declaration order."""

    tools: dict[str, Tool] = field(default_factory=dict)

    @classmethod
    def of(cls, items: Iterable[Tool]) -> ToolSet:
        toolset = cls()
        for t in items:
            if t.name in toolset.tools:
                raise ValueError(f"duplicate tool name {t.name!r}")
            toolset.tools[t.name] = t
        return toolset

    def __getitem__(self, name: str) -> Tool:
        return self.tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools.values())

    def __len__(self) -> int:
        return len(self.tools)

    @property
    def names(self) -> list[str]:
        return list(self.tools)

    @property
    def write_names(self) -> list[str]:
        return [t.name for t in self if t.writes]

    def openai_schemas(self) -> list[dict[str, Any]]:
        return [t.openai_schema() for t in self]


@functools.lru_cache(maxsize=1024)
def _schema_text(model: type[BaseModel]) -> str:
    return json.dumps(_strip_titles(model.model_json_schema()))


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: _strip_titles(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema
