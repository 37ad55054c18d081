"""Resolving where roles send their calls: a configured endpoint, or the embedded model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .local_model import MODEL_NAME, NOTICE, EmbeddedModel
from .settings import ModelSettings, pointed_at


@contextmanager
def resolved_endpoint(settings: ModelSettings, *, say=print) -> Iterator[ModelSettings]:
    """Yield settings ready to call: unchanged when an endpoint is configured, otherwise
    pointed at a freshly started embedded model that is stopped on exit."""
    if not settings.embedded:
        yield settings
        return
    say(NOTICE)
    say("Waiting for the embedded model: starting two llama.cpp servers (chat, tool calls)...")
    with EmbeddedModel() as embedded:
        say(f"Embedded model ready in {embedded.started_in:.1f} s.")
        yield pointed_at(settings, embedded.chat.base_url, MODEL_NAME, embedded.tools.base_url)
