"""`apigen-mt serve`: an episode over MCP, for any MCP client to drive and score."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .generate import DEFAULT_OUT
from .running import first_line


def serve(
    domain: Annotated[str, typer.Option(help="The tasks' domain (a name or a world folder).")],
    tasks: Annotated[
        str,
        typer.Option(
            help="Tasks JSON (τ-bench's format or τ²'s tasks.json), or a generation run's id "
            "in --out (its accepted tasks)."
        ),
    ],
    data_dir: Annotated[
        Path | None, typer.Option(help="τ-bench's data files or τ²'s db.json folder.")
    ] = None,
    split: Annotated[str | None, typer.Option(help="A split of τ²'s split_tasks.json.")] = None,
    out: Annotated[Path, typer.Option(help="The run store (runs, pass rates).")] = DEFAULT_OUT,
    transport: Annotated[str, typer.Option(help="stdio or http (streamable HTTP).")] = "stdio",
    host: Annotated[
        str, typer.Option(help="http: the address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="http: the port.")] = 8000,
    protocol: Annotated[
        str, typer.Option(help="The simulated user: apigen (ours) or tau2 (τ²'s simulator).")
    ] = "apigen",
    max_steps: Annotated[
        int | None, typer.Option(help="Agent actions per episode (default 30; tau2: 200).")
    ] = None,
) -> None:
    """Serve an episode over MCP: the domain's tools plus reset(task_index) -> the user's
    first message, send_message(text) -> the user's reply, verify() -> {reward,
    components}. The simulated user is the human role's configured endpoint (as in eval)."""
    if transport not in ("stdio", "http"):
        raise typer.BadParameter("choose stdio or http", param_hint="--transport")
    try:
        from apigen_mt.rl.episode import Episode
        from apigen_mt.rl.mcp_server import serve as serve_episode
        from apigen_mt.rl.task_set import load_task_set
        from apigen_mt.rl.user import ConfiguredRoles
    except ImportError as exc:
        raise typer.BadParameter(
            f"serving needs the rl extra: pip install 'apigen-mt[rl]' ({exc})"
        ) from None
    try:
        task_set = load_task_set(domain, tasks, out=out, data_dir=data_dir, split=split)
        roles = ConfiguredRoles()
        episode = Episode(task_set, roles=roles, protocol=protocol, max_steps=max_steps)
    except (KeyError, LookupError, ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(first_line(exc)) from None
    print(  # stdout is the protocol's channel under stdio: say it on stderr
        f"serving {len(task_set)} {domain} tasks over MCP ({transport}"
        + (f" on http://{host}:{port}/mcp" if transport == "http" else "")
        + ")",
        file=sys.stderr,
    )
    try:
        serve_episode(task_set, episode, transport=transport, host=host, port=port)
    finally:
        episode.close()
        roles.close()
        task_set.close()
