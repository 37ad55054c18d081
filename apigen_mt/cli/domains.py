"""`apigen-mt domains`: list, inspect and build domain databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from apigen_mt.environments import Environment, domain_names, get_domain
from apigen_mt.environments.worlds import WorldError

from .running import console_for
from .world_view import init_world, show_world

app = typer.Typer(help="List, inspect and build domains.", no_args_is_help=True)
console = console_for()

CacheDir = Annotated[
    Path | None,
    typer.Option(
        help="Where master databases are built "
        "(default $APIGEN_MT_CACHE_DIR or ~/.cache/apigen-mt)."
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        help="τ²'s folder for a τ² domain (default $TAU2_DATA_DIR), or τ-bench's data files."
    ),
]


def _domain(name: str):
    try:
        return get_domain(name)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="NAME") from None
    except WorldError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("list")
def list_domains(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The registered domains."""
    rows = [
        {
            "name": n,
            "tools": len(get_domain(n).tools),
            "writes": len(get_domain(n).tools.write_names),
            # dual control: the user's own tools (τ²'s telecom), else 0
            "user_tools": len(get_domain(n).user_tools or ()),
            "rules": len(get_domain(n).rules.rules),
            "description": get_domain(n).description,
        }
        for n in domain_names()
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("domain", "tools", "writes", "rules", "description")
    for r in rows:
        table.add_row(
            r["name"], str(r["tools"]), str(r["writes"]), str(r["rules"]), r["description"]
        )
    console.print(table)


@app.command("show")
def show(
    name: str,
    seed: int = 0,
    cache_dir: CacheDir = None,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tools (read/write, schema), tables with row counts, rules and the policy of a domain
    (a dual-control domain's user tools too). For a world folder: what was derived from
    it, with the evidence."""
    domain = _domain(name)
    if domain.world is not None:
        show_world(domain, cache_dir, as_json, console)
        return
    with _environment(domain, data_dir, seed, cache_dir) as env:
        counts = {
            t: env.master.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in domain.schema.names
        }
        info = {
            "name": domain.name,
            "description": domain.description,
            "policy_path": str(domain.policy_path),
            "database": str(env.master_path),
            "state_hash": env.state_hash(),
            "tables": counts,
            "tools": [
                {
                    "name": t.name,
                    "writes": t.writes,
                    "description": t.description,
                    "parameters": t.parameters,
                }
                for t in domain.tools
            ],
            "user_tools": [
                {
                    "name": t.name,
                    "writes": t.writes,
                    "description": t.description,
                    "parameters": t.parameters,
                }
                for t in (domain.user_tools or [])
            ],
            "rules": [
                {
                    "name": r.name,
                    "description": r.description,
                    "tools": sorted(r.tools or []),
                    "blueprints": r.blueprints,
                }
                for r in domain.rules.rules
            ],
        }
    if as_json:
        typer.echo(json.dumps(info))
        return
    console.print(f"[bold]{domain.name}[/bold]: {domain.description}")
    console.print(f"policy: {info['policy_path']}\ndatabase: {info['database']} (seed {seed})")
    tables = Table("table", "rows")
    for t, n in counts.items():
        tables.add_row(t, str(n))
    console.print(tables)
    tools = Table("tool", "kind", "arguments")
    for t in info["tools"]:
        tools.add_row(
            t["name"],
            "write" if t["writes"] else "read",
            ", ".join(t["parameters"].get("properties", {})),
        )
    console.print(tools)
    if info["user_tools"]:
        mine = Table("the user's tool (dual control)", "kind", "arguments")
        for t in info["user_tools"]:
            mine.add_row(t["name"], "write" if t["writes"] else "read",
                         ", ".join(t["parameters"].get("properties", {})))  # fmt: skip
        console.print(mine)
    rules = Table("rule", "applies to", "what it enforces")
    for r in info["rules"]:
        rules.add_row(r["name"], ", ".join(r["tools"]) or "every call", r["description"])
    console.print(rules)


@app.command("build")
def build(name: str, seed: int = 0, cache_dir: CacheDir = None, data_dir: DataDir = None) -> None:
    """Build (or find cached) the domain's master database and print its path: its seeded
    data, or a τ² domain's data (--data-dir, or $TAU2_DATA_DIR)."""
    with _environment(_domain(name), data_dir, seed, cache_dir) as env:
        typer.echo(str(env.master_path))


def _environment(domain, data_dir: Path | None, seed: int, cache_dir) -> Environment:
    """The database `domains show/build` read; missing data is a usage error in words."""
    try:
        return Environment.for_data(domain, data_dir, seed=seed, cache_dir=cache_dir)
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc).splitlines()[0]) from None


app.command("init")(init_world)
