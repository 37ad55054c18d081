"""`domains show PATH` for a world folder (what was derived, with its evidence) and
`domains init PATH`: a world.toml and a policy template from a database and tools."""

from __future__ import annotations

import json
import os
import random
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from apigen_mt.environments import Environment
from apigen_mt.environments.worlds import WORLD_FILE, WorldError, load_world
from apigen_mt.graphs.sampling import api_graph_of
from apigen_mt.tools import ToolUnavailable


def show_world(domain, cache_dir: Path | None, as_json: bool, console: Console) -> None:
    world = domain.world
    info = world.describe()
    try:
        with Environment.generated(domain, cache_dir=cache_dir) as env:
            info["state_hash"] = env.state_hash()
            graph = api_graph_of(env)
            # What phase 1 draws around: tool sequences centred on writes (seeded, 3 shown).
            info["walks"] = [graph.walk(random.Random(i)) for i in range(3)]
    except (WorldError, ValueError, FileNotFoundError, ToolUnavailable) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    info["policy_path"] = str(domain.policy_path)
    info["description"] = domain.description
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False))
        return
    console.print(f"[bold]{info['name']}[/bold] (world at {info['folder']}): {domain.description}")
    console.print(
        f"database: {info['database']} (never written; state hash {info['state_hash'][:16]})"
    )
    console.print(f"user table: [bold]{world.user_table}[/] ({world.user_table_evidence})")
    tables = Table("table", "rows", "key", "foreign keys", "notes", title="Schema (from the file)")
    for t in info["tables"]:
        tables.add_row(
            t["name"],
            str(t["rows"]),
            ", ".join(t["primary_key"]),
            ", ".join(f"{f['column']} -> {f['references']}" for f in t["foreign_keys"]),
            "; ".join(t["notes"]),
        )
    console.print(tables)
    tools = Table("tool", "kind", "evidence", title=f"Tools ({info['tool_source']})")
    for t in info["tools"]:
        tools.add_row(t["name"], "write" if t["writes"] else "read", t["evidence"])
    console.print(tools)
    for skipped in info["not_tools"]:
        console.print(f"not a tool: {skipped['name']} ({skipped['why']})", markup=False)
    if info["api_graph"]:
        console.print("API graph (observed on one sample call per read tool):")
        for link in info["api_graph"]:
            console.print(f"  {link['from']} -> {link['to']}: {link['evidence']}", markup=False)
    for walk in info["walks"]:
        console.print(f"  a walk: {' -> '.join(walk)}", markup=False)
    console.print(f"rules: {info['rules']}")
    console.print(f"policy: {info['policy_path']}")


def init_world(
    path: Annotated[Path, typer.Argument(help="The world folder to write (created if new).")],
    database: Annotated[Path, typer.Option(help="The SQLite file holding the initial state.")],
    tools: Annotated[
        Path | None, typer.Option(help="A Python module of plain functions (conn first).")
    ] = None,
    mcp: Annotated[
        str | None,
        typer.Option(help="Instead of --tools: the MCP server's command, quoted (stdio)."),
    ] = None,
    database_env: Annotated[
        str, typer.Option(help="With --mcp: the variable that gives the server its database.")
    ] = "WORLD_DB",
    force: Annotated[bool, typer.Option(help="Overwrite an existing world.toml.")] = False,
) -> None:
    """Write a world.toml (the inferred user table and read/write classification as
    comments to confirm) and a policy.md template; print the next command."""
    if (tools is None) == (mcp is None):
        raise typer.BadParameter("give exactly one of --tools FILE or --mcp 'COMMAND'")
    path = path.expanduser().resolve()
    toml = path / WORLD_FILE
    if toml.exists() and not force:
        raise typer.BadParameter(f"{toml} exists (--force to overwrite)", param_hint="PATH")
    for label, file in (("--database", database), ("--tools", tools)):
        if file is not None and not file.is_file():
            raise typer.BadParameter(f"{file}: no such file", param_hint=label)
    path.mkdir(parents=True, exist_ok=True)
    lines = [f"name = {json.dumps(_name_of(path))}", f"database = {_rel(database, path)}"]
    lines.append('policy = "policy.md"')
    if tools is not None:
        lines.append(f"tools = {_rel(tools, path)}")
    else:
        command = shlex.split(mcp or "")
        lines += ["", "[mcp]", f"command = {json.dumps(command)}",
                  f"database_env = {json.dumps(database_env)}"]  # fmt: skip
    policy = path / "policy.md"
    created_policy = not policy.exists()
    if created_policy:
        policy.write_text("# Policy\n\n(written by domains init; replaced below)\n", "utf-8")
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        world = load_world(path)
    except WorldError as exc:
        toml.unlink()
        if created_policy:
            policy.unlink()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    _write_toml(toml, lines, world, tools is None)
    if created_policy:
        policy.write_text(_policy_template(world), encoding="utf-8")
    typer.echo(f"wrote {toml}" + (f" and {policy}" if created_policy else ""))
    typer.echo("Confirm the user table and the read/write classification in world.toml, write")
    typer.echo("the policy, then:")
    typer.echo(f"  apigen-mt domains show {shlex.quote(str(path))}")
    typer.echo(f"  apigen-mt generate --domain {shlex.quote(str(path))} --n 20")


def _write_toml(toml: Path, lines: list[str], world, is_mcp: bool) -> None:
    head, tail = (lines[:3], lines[3:]) if is_mcp else (lines, [])
    writes = [t.name for t in world.tools if t.writes]
    reads = [t.name for t in world.tools if not t.writes]
    out = ["# Written by `apigen-mt domains init`; see `apigen-mt domains show` for the evidence."]
    out += head
    out += [
        "",
        f"# {world.user_table_evidence}",
        f"user_table = {json.dumps(world.user_table)}",
        "",
        "# The read/write classification, inferred (confirm it: a tool listed here overrides",
        "# the inference; a read whose call changes the database is an error in validate).",
    ]
    for name in writes + reads:
        out.append(f"#   {name}: {world.classified[name].evidence}")
    out += [f"writes = {json.dumps(writes)}", f"reads = {json.dumps(reads)}", *tail]
    toml.write_text("\n".join(out) + "\n", encoding="utf-8")


def _policy_template(world) -> str:
    tools = "\n".join(
        f"- `{t.name}` ({'changes the database' if t.writes else 'reads'}): "
        f"{t.description.splitlines()[0] if t.description else ''}"
        for t in world.tools
    )
    tables = "\n".join(f"- `{t.name}` ({t.rows} rows)" for t in world.tables)
    return f"""# {world.config.name} policy

Write here what the agent may and may not do. The committee of reviewers judges every
task against this text, and the agent is given it as its system prompt.

## Who the agent serves

(Who calls, and how the agent identifies them before acting. Tasks are about one row of
`{world.user_table}`.)

## Rules

- (Which changes need the user's explicit confirmation.)
- (Which states allow which changes.)
- (When to transfer to a human.)

## Tools

{tools}

## Data

{tables}
"""


def _rel(file: Path, folder: Path) -> str:
    file = file.expanduser().resolve()
    try:
        return json.dumps(os.path.relpath(file, folder))
    except ValueError:  # another drive
        return json.dumps(str(file))


def _name_of(path: Path) -> str:
    name = "".join(c if c.isalnum() or c in "_-." else "-" for c in path.name).strip("-.")
    return name or "world"
