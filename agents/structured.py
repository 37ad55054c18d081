"""Asking a chat model for JSON matching a pydantic schema, without ever raising.

The endpoint's JSON mode is used: OpenAI-style `json_schema`, or `json_object` with the
schema attached (llama.cpp turns that into a grammar). Unparsable or schema-invalid output
is shown back to the model once; after that, and after transport faults the client has
already retried, the caller gets a `RoleFailure` to record as a rejection reason.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, ValidationError

from .call_limit import llm_slot
from .strict_schema import strict_violations, to_strict

T = TypeVar("T", bound=BaseModel)
In = TypeVar("In")
STRUCTURED_MODE_KEY = "apigen_structured_mode"  # set by apigen_mt.models.chat_model
STRICT_SCHEMA_KEY = "apigen_strict_schema"  # likewise; absent means True
log = logging.getLogger(__name__)


class RoleFailure(BaseModel):
    """A role that could not produce a valid answer: the reason is kept, never raised."""

    role: str
    kind: str  # "invalid_output" | "transport"
    reason: str
    raw: str | None = None

    def __str__(self) -> str:
        return f"{self.role}: {self.kind}: {self.reason}"


@functools.lru_cache(maxsize=256)  # per model class; bounded for classes made per call
def json_schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    """The model's schema in the strict subset: flat, closed, every property required.

    Built once per model (pydantic's schema generation took longer than the rest of a
    call's client work) and shared: callers copy before changing it."""
    return to_strict(schema.model_json_schema())


def response_format(
    model: BaseChatModel, schema: type[BaseModel], body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The `response_format` for `schema` (or for `body`, a JSON schema built for one call).

    `strict: true` goes with json_schema mode unless the role's settings turn it off, or the
    schema falls outside the strict subset (then it is a hint, and a warning is logged).
    """
    metadata = getattr(model, "metadata", None) or {}
    mode = metadata.get(STRUCTURED_MODE_KEY, "json_schema")
    body = body if body is not None else json_schema_of(schema)
    if mode == "json_object":  # a grammar: the free-text length caps apply too
        return {"type": "json_object", "schema": with_length_caps(body, schema)}
    strict = bool(metadata.get(STRICT_SCHEMA_KEY, True))
    if strict and (problems := strict_violations(body)):
        log.warning("schema %s is not strict-compliant (%s); sent as a hint", schema, problems[0])
        strict = False
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": body, "strict": strict},
    }


@functools.lru_cache(maxsize=256)  # per model class; bounded for classes made per call
def _declared_properties(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema().get("properties", {})


def with_length_caps(body: dict[str, Any], schema: type[BaseModel]) -> dict[str, Any]:
    """`body` with the length caps the model declares on its top-level fields (`maxLength`
    of a string, `maxItems` of a list and `maxLength` of its string items), for grammars."""
    declared = _declared_properties(schema)
    props = dict(body.get("properties", {}))
    for name, spec in declared.items():
        prop = props.get(name)
        if not isinstance(prop, dict):
            continue
        prop = dict(prop)
        if prop.get("type") == "string" and "maxLength" in spec:
            prop["maxLength"] = spec["maxLength"]
        if prop.get("type") == "array":
            if "maxItems" in spec:
                prop["maxItems"] = spec["maxItems"]
            item_cap = (spec.get("items") or {}).get("maxLength")
            if item_cap and (prop.get("items") or {}).get("type") == "string":
                prop["items"] = {**prop["items"], "maxLength": item_cap}
        props[name] = prop
    return {**body, "properties": props}


def parse_json_reply(text: str, schema: type[T]) -> T:
    """Parse the reply, tolerating code fences or prose around one JSON object."""
    try:
        return schema.model_validate_json(text)
    except ValidationError as exc:
        if not any(e["type"] == "json_invalid" for e in exc.errors()):
            raise
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    candidate = fenced.group(1) if fenced else text[text.find("{") : text.rfind("}") + 1]
    return schema.model_validate(json.loads(candidate))


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:8]
        )
    return f"not valid JSON ({exc})"


def _is_transport(exc: Exception) -> bool:
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(
        names
        & {
            "APIError",
            "APIConnectionError",
            "APITimeoutError",
            "HTTPError",
            "TimeoutException",
            "ConnectionError",
            "TimeoutError",
            "OSError",
        }
    )


async def astructured(
    model: BaseChatModel,
    messages: list[BaseMessage],
    schema: type[T],
    *,
    role: str,
    config: RunnableConfig | None = None,
    response_schema: dict[str, Any] | None = None,
) -> T | RoleFailure:
    bound = model.bind(response_format=response_format(model, schema, response_schema))
    history = list(messages)
    for attempt in range(2):
        try:
            async with llm_slot():
                message = await bound.ainvoke(history, config=config)
        except Exception as exc:  # transport faults arrive here after the client's retries
            return transport_failure(role, exc)
        if (done := _judge_reply(message, schema, role, attempt, history)) is not None:
            return done
    raise AssertionError("unreachable")


def structured(
    model: BaseChatModel,
    messages: list[BaseMessage],
    schema: type[T],
    *,
    role: str,
    config: RunnableConfig | None = None,
    response_schema: dict[str, Any] | None = None,
) -> T | RoleFailure:
    """Synchronous twin of `astructured`."""
    bound = model.bind(response_format=response_format(model, schema, response_schema))
    history = list(messages)
    for attempt in range(2):
        try:
            message = bound.invoke(history, config=config)
        except Exception as exc:
            return transport_failure(role, exc)
        if (done := _judge_reply(message, schema, role, attempt, history)) is not None:
            return done
    raise AssertionError("unreachable")


def _judge_reply(
    message: BaseMessage, schema: type[T], role: str, attempt: int, history: list[BaseMessage]
) -> T | RoleFailure | None:
    """The parsed answer, a failure after the second try, or None after asking again."""
    reply = message.content if isinstance(message.content, str) else json.dumps(message.content)
    try:
        return parse_json_reply(reply, schema)
    except (ValidationError, ValueError) as exc:
        problem = _describe(exc)
        if attempt == 1:
            return RoleFailure(role=role, kind="invalid_output", reason=problem, raw=reply)
        history += [
            AIMessage(content=reply),
            HumanMessage(
                content=(
                    f"That reply was not usable: {problem}. Answer again with only one JSON object "
                    "that matches the required schema."
                )
            ),
        ]
        return None


class StructuredRole(Generic[In, T]):
    """A role whose answer is a pydantic object: a prompt builder plus a schema.

    `response_schema(inputs)`, when given, builds the JSON schema sent for one call (a
    narrower one than the pydantic model's, e.g. from the sampled records); the reply is
    still parsed into `schema`, then passed through `finish(inputs, answer)` when given.
    """

    def __init__(
        self,
        name: str,
        model: BaseChatModel,
        schema: type[T],
        prompt: Callable[[In], list[BaseMessage]],
        *,
        response_schema: Callable[[In], dict[str, Any]] | None = None,
        finish: Callable[[In, T], T] | None = None,
    ):
        self.name, self.model, self.schema, self.prompt = name, model, schema, prompt
        self.response_schema, self.finish = response_schema, finish

    def _config(self, config: RunnableConfig | None) -> RunnableConfig:
        config = dict(config or {})
        config.setdefault("run_name", self.name)
        return config  # type: ignore[return-value]

    def schema_for(self, inputs: In) -> dict[str, Any]:
        """The JSON schema sent with a call for `inputs`."""
        if self.response_schema is not None:
            return self.response_schema(inputs)
        return json_schema_of(self.schema)

    def _done(self, inputs: In, answer: T | RoleFailure) -> T | RoleFailure:
        if self.finish is None or isinstance(answer, RoleFailure):
            return answer
        return self.finish(inputs, answer)

    async def ainvoke(self, inputs: In, config: RunnableConfig | None = None) -> T | RoleFailure:
        answer = await astructured(
            self.model,
            self.prompt(inputs),
            self.schema,
            role=self.name,
            config=self._config(config),
            response_schema=self.schema_for(inputs),
        )
        return self._done(inputs, answer)

    def invoke(self, inputs: In, config: RunnableConfig | None = None) -> T | RoleFailure:
        answer = structured(
            self.model,
            self.prompt(inputs),
            self.schema,
            role=self.name,
            config=self._config(config),
            response_schema=self.schema_for(inputs),
        )
        return self._done(inputs, answer)


async def call_role(
    role: str, model: Any, messages: list[BaseMessage], config: RunnableConfig | None = None
) -> AIMessage | RoleFailure:
    """One call of a role's model: in an LLM slot, named `role` in traces; an error of the
    endpoint (after the client's retries) is the role's RoleFailure, never raised."""
    try:
        async with llm_slot():
            return await model.ainvoke(messages, config={"run_name": role, **(config or {})})
    except Exception as exc:
        return transport_failure(role, exc)


def transport_failure(role: str, exc: Exception) -> RoleFailure:
    kind = "transport" if _is_transport(exc) else "error"
    return RoleFailure(role=role, kind=kind, reason=f"{type(exc).__name__}: {exc}"[:500])
