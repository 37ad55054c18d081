"""`apigen-mt local-model serve`: the embedded offline model as an OpenAI-compatible server."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from apigen_mt.local_model import MODEL_NAME, NOTICE, EmbeddedModel, LocalModelUnavailable

app = typer.Typer(
    help="The embedded offline model (SmolLM2-135M on llama.cpp).", no_args_is_help=True
)


@app.command("serve")
def serve(
    port: Annotated[
        int | None, typer.Option(help="Port of the chat server (default: free)")
    ] = None,
    tools_port: Annotated[int | None, typer.Option(help="Port of the tool-calling server")] = None,
    n_ctx: Annotated[int, typer.Option(help="Context window in tokens.")] = 8192,
) -> None:
    """Serve /v1/models and /v1/chat/completions on 127.0.0.1 until interrupted: a chat
    server for structured roles and the human, a tool-calling one for the assistant."""
    typer.echo(NOTICE, err=True)
    embedded = EmbeddedModel(n_ctx=n_ctx)
    if port:
        embedded.chat.port = port
    if tools_port:
        embedded.tools.port = tools_port
    try:
        embedded.start()
    except LocalModelUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"serving {MODEL_NAME}: chat at {embedded.chat.base_url}, tool calls at "
        f"{embedded.tools.base_url} (started in {embedded.started_in:.1f}s); Ctrl-C stops",
        err=True,
    )
    typer.echo(
        f"export APIGEN_MT_BASE_URL={embedded.chat.base_url} "
        f"APIGEN_MT_ASSISTANT_BASE_URL={embedded.tools.base_url} "
        f"APIGEN_MT_MODEL={MODEL_NAME} APIGEN_MT_STRUCTURED_MODE=json_object "
        f"APIGEN_MT_API_KEY=local"
    )
    try:
        while all(s.process and s.process.poll() is None for s in (embedded.chat, embedded.tools)):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        embedded.stop()
