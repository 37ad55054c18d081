"""Scripted chat models for tests, notebooks and offline demos.

`ScriptedChatModel` answers from a script (strings, AIMessages, tool calls or functions of
the prompt) and records every call, so a whole multi-agent run can be driven offline.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

Scripted = str | AIMessage | dict | Callable[[list[BaseMessage]], "str | AIMessage | dict"]
_ids = itertools.count()


class ScriptExhausted(RuntimeError):
    pass


def tool_call(
    name: str, arguments: dict[str, Any] | None = None, *, content: str = ""
) -> AIMessage:
    """An assistant message that calls one tool."""
    return AIMessage(
        content=content,
        tool_calls=[
            {"name": name, "args": arguments or {}, "id": f"call_{next(_ids)}", "type": "tool_call"}
        ],
    )


class ScriptedChatModel(BaseChatModel):
    """Replies in script order; with `responder`, computes each reply from the prompt.

    `delay` (seconds) makes async calls sleep, so tests can observe concurrency
    (`max_in_flight`). Every reply carries usage metadata (characters / 4).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: list[Any] = Field(default_factory=list)
    responder: Callable[[list[BaseMessage]], Any] | None = None
    delay: float = 0.0
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _calls: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _in_flight: int = PrivateAttr(default=0)
    _max_in_flight: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self._calls

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any):
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _next(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        with self._lock:
            self._calls.append({"messages": list(messages), "kwargs": dict(kwargs)})
            if self.script:
                item = self.script.pop(0)
            elif self.responder is not None:
                item = self.responder
            else:
                raise ScriptExhausted(f"no scripted reply left for call {len(self._calls)}")
        if callable(item):
            item = item(messages, kwargs) if _wants_kwargs(item) else item(messages)
        if isinstance(item, Exception):
            raise item
        if isinstance(item, str):
            item = AIMessage(content=item)
        elif isinstance(item, dict):
            item = AIMessage(**item)
        prompt_chars = sum(len(str(m.content)) for m in messages)
        return item.model_copy(
            update={
                "usage_metadata": {
                    "input_tokens": prompt_chars // 4,
                    "output_tokens": len(str(item.content)) // 4 + 1,
                    "total_tokens": prompt_chars // 4 + len(str(item.content)) // 4 + 1,
                }
            }
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay:
            time.sleep(self.delay)
        return ChatResult(generations=[ChatGeneration(message=self._next(messages, kwargs))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return ChatResult(generations=[ChatGeneration(message=self._next(messages, kwargs))])
        finally:
            with self._lock:
                self._in_flight -= 1


def _wants_kwargs(fn: Callable[..., Any]) -> bool:
    """Responders may take (messages) or (messages, call kwargs: tools, response_format)."""
    try:
        return len(inspect.signature(fn).parameters) >= 2
    except (TypeError, ValueError):
        return False
