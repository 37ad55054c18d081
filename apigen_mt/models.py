"""The one factory that turns a role's settings into a ChatOpenAI."""

from __future__ import annotations

import asyncio
import importlib
import threading
import weakref

from langchain_core.caches import BaseCache
from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_openai import ChatOpenAI

from apigen_mt.agents.call_limit import observe_response
from apigen_mt.agents.structured import STRICT_SCHEMA_KEY, STRUCTURED_MODE_KEY

from .response_cache import SQLiteResponseCache
from .settings import ModelSettings, RoleSettings
from .usage import UsageLedger

_limiters: dict[tuple[str, float], InMemoryRateLimiter] = {}
_caches: dict[str, SQLiteResponseCache] = {}
_lock = threading.Lock()
_client = None


def rate_limiter(endpoint: str, rps: float) -> InMemoryRateLimiter:
    """One limiter per endpoint, shared by every role that calls it."""
    with _lock:
        key = (endpoint, rps)
        if key not in _limiters:
            _limiters[key] = InMemoryRateLimiter(
                requests_per_second=rps,
                check_every_n_seconds=min(0.05, 1 / rps),
                max_bucket_size=max(1.0, rps),
            )
        return _limiters[key]


def response_cache(path: str) -> BaseCache:
    with _lock:
        if path not in _caches:
            _caches[path] = SQLiteResponseCache(path)
        return _caches[path]


def chat_model_from(
    role: str, s: RoleSettings, *, ledger: UsageLedger | None = None, cache_path: str | None = None
) -> ChatOpenAI:
    return ChatOpenAI(
        model=s.model,
        base_url=s.base_url,
        # A key is required by the client even for local servers that ignore it.
        api_key=s.api_key or "not-needed",
        temperature=s.temperature,
        max_tokens=s.max_tokens,
        # langchain-openai sends `max_completion_tokens`, which llama.cpp (and other
        # OpenAI-compatible servers) ignore; they read `max_tokens`.
        extra_body={"max_tokens": s.max_tokens} if s.max_tokens and s.base_url else None,
        timeout=s.timeout,
        # The OpenAI client retries 429 (honouring Retry-After), 5xx, timeouts and
        # connection errors with exponential backoff.
        max_retries=s.max_retries,
        rate_limiter=rate_limiter(s.endpoint, s.requests_per_second)
        if s.requests_per_second
        else None,
        cache=response_cache(cache_path) if cache_path else None,
        # Every HTTP response (the client's retries included) reaches the run's call limit,
        # which shrinks on 429s and grows back on successes when it is adaptive.
        http_async_client=_observed_client(),
        callbacks=[ledger.handler(role)] if ledger else None,
        metadata={
            STRUCTURED_MODE_KEY: s.structured_mode,
            STRICT_SCHEMA_KEY: s.strict_schema,
            "apigen_role": role,
        },
        tags=[f"role:{role}"],
    )


def _observed_client():
    """The async HTTP client every ChatOpenAI of this process uses: it reports each
    response's status (the client's retries included) to the run's call limit."""
    global _client
    with _lock:
        if _client is None:
            import openai

            _client = openai.DefaultAsyncHttpxClient(transport=_observed_transport())
        return _client


def _observed_transport():
    """A transport that sends through one connection pool per event loop (a pool's
    connections belong to the loop that opened them; notebooks and benchmarks run several
    loops one after another) and tells `observe_response` each response's status."""
    import openai

    # The HTTP library the OpenAI SDK is built on (httpx, or its fork in newer SDKs).
    hx = importlib.import_module(openai.DefaultAsyncHttpxClient.__mro__[1].__module__.split(".")[0])
    limits = getattr(openai, "DEFAULT_CONNECTION_LIMITS", None) or hx.Limits(
        max_connections=1000, max_keepalive_connections=100
    )

    class ObservedTransport(hx.AsyncBaseTransport):
        def __init__(self) -> None:
            self._pools: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

        async def handle_async_request(self, request):
            loop = asyncio.get_running_loop()
            pool = self._pools.get(loop)
            if pool is None:
                pool = self._pools[loop] = hx.AsyncHTTPTransport(limits=limits)
            response = await pool.handle_async_request(request)
            observe_response(response.status_code)
            return response

        async def aclose(self) -> None:
            pool = self._pools.pop(asyncio.get_running_loop(), None)
            if pool is not None:
                await pool.aclose()

    return ObservedTransport()


def chat_model(
    role: str, settings: ModelSettings, *, ledger: UsageLedger | None = None
) -> ChatOpenAI:
    """A ChatOpenAI for `role` (proposer, reviewer, …) as the settings describe."""
    return chat_model_from(
        role, settings.for_role(role), ledger=ledger, cache_path=settings.cache_path
    )


def committee_models(
    settings: ModelSettings, size: int, *, ledger: UsageLedger | None = None
) -> list[ChatOpenAI]:
    """`size` reviewer models, cycling through APIGEN_MT_REVIEWER_MODELS for diversity."""
    return [
        chat_model_from("reviewer", s, ledger=ledger, cache_path=settings.cache_path)
        for s in settings.committee(size)
    ]


def pipeline_models(settings: ModelSettings, committee_size: int = 3):
    """Every role's model for a pipeline run, as the settings describe."""
    from apigen_mt.graphs.pipeline import PipelineModels

    return PipelineModels(
        proposer=chat_model("proposer", settings),
        reviewers=committee_models(settings, committee_size),
        feedback=chat_model("feedback", settings),
        recombiner=chat_model("recombiner", settings),
        human=chat_model("human", settings),
        human_judge=chat_model("human_judge", settings),
        assistant=chat_model("assistant", settings),
    )
