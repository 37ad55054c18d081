"""`apigen-mt browse`: the run store in a browser (Datasette, read-only)."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from apigen_mt.runs import STORE_FILE

from .running import console_for
from .runs import DEFAULT_OUT, Out, no_store_message

console = console_for(True)


def browse(
    out: Out = DEFAULT_OUT,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8001,
    host: Annotated[
        str,
        typer.Option(help="Address to bind; anything but loopback exposes your data."),
    ] = "127.0.0.1",
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the list of runs in a browser.")
    ] = True,
) -> None:
    """Browse runs, blueprints, dialogues and evaluations in a browser, read-only."""
    from apigen_mt.browse import LOOPBACK, make_datasette, serve

    path = Path(out) / STORE_FILE
    if not path.is_file():
        raise typer.BadParameter(no_store_message(Path(out)), param_hint="--out")
    try:
        make_datasette(path)  # fail here, with the reason, before binding anything
    except RuntimeError as exc:
        raise typer.BadParameter(str(exc)) from None
    if host not in LOOPBACK:
        console.print(
            f"[yellow]Warning:[/] serving on {host}: anyone who can reach this address can "
            "read every prompt, conversation and setting in the store."
        )
    url = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}/apigen/runs"
    console.print(f"Serving {path} read-only at {url} (Ctrl-C to stop)")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    serve(path, host, port)
