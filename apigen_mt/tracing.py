"""Traces to any OpenTelemetry backend (Arize Phoenix, Langfuse, an OTLP collector).

`APIGEN_MT_OTLP_ENDPOINT=http://127.0.0.1:6006/v1/traces apigen-mt generate ...` (or
`otlp_tracing(endpoint)` in a notebook) sends every run as one trace: OpenInference's
LangChain instrumentation turns LangChain's callbacks into spans — the pipeline, each
blueprint graph with its committee branches, each dialogue graph, and every LLM call with
its model name and token counts. Needs the `otel` extra.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

ENDPOINT_ENV = "APIGEN_MT_OTLP_ENDPOINT"
PROJECT_ENV = "APIGEN_MT_OTLP_PROJECT"
DEFAULT_PROJECT = "apigen-mt"


@contextmanager
def otlp_tracing(endpoint: str, project: str = DEFAULT_PROJECT) -> Iterator[None]:
    """Every LangChain run inside the block becomes OTLP spans sent to `endpoint` (its
    project named by the `openinference.project.name` resource attribute, as Phoenix
    reads it); flushed and switched off at the end."""
    try:
        from openinference.instrumentation.langchain import LangChainInstrumentor
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise RuntimeError("OTLP tracing needs: pip install 'apigen-mt[otel]'") from None
    provider = TracerProvider(resource=Resource.create({"openinference.project.name": project}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()
        provider.force_flush()
        provider.shutdown()


@contextmanager
def tracing_from_env() -> Iterator[None]:
    """`otlp_tracing` when $APIGEN_MT_OTLP_ENDPOINT is set; nothing otherwise."""
    endpoint = os.environ.get(ENDPOINT_ENV)
    if not endpoint:
        yield
        return
    with otlp_tracing(endpoint, os.environ.get(PROJECT_ENV) or DEFAULT_PROJECT):
        yield
