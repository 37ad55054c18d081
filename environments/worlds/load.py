"""A world folder becomes a `Domain`: nothing above the environment layer changes.

`load_world(path)` reads `world.toml`, introspects the database (opened read-only), adapts
the tools (Python functions, or an MCP server's), classifies them, infers what the user did
not write, and runs one sample call per read tool on a private copy: their results link the
API graph, and a "read" whose call changes the database is classified as a write, with
that as its evidence.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apigen_mt.tools import Tool, ToolExecutor, ToolSet, ToolUnavailable

from ..environment import read_only_copy
from ..registry import Domain, TaskHooks
from ..rules import RuleSet
from ..schema import Schema
from .classify import Classified, check_overrides, classify
from .config import WorldConfig, WorldError, is_world_folder, load_config
from .introspect import TableInfo, introspect
from .python_tools import load_module, python_tools
from .records import WorldRecords, infer_user_table, norm

_LOADED: dict[str, Domain] = {}


@dataclass
class World:
    """What was read and derived from a world folder (`domains show` prints it)."""

    config: WorldConfig
    tables: list[TableInfo]
    schema: Schema
    tools: ToolSet
    classified: dict[str, Classified]
    user_table: str
    user_table_evidence: str
    records: WorldRecords
    sample_calls: list[dict[str, Any]] = field(default_factory=list)
    api_links: list[tuple[str, str, str]] = field(default_factory=list)  # (a, b, evidence)
    skipped: list[dict[str, str]] = field(default_factory=list)
    rules_note: str = ""
    mcp: Any = None  # the MCP connection factory (mcp_tools.McpWorld) for MCP worlds

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.config.name,
            "folder": str(self.config.folder),
            "database": str(self.config.database),
            "tool_source": "mcp" if self.mcp else "python",
            "user_table": {"name": self.user_table, "evidence": self.user_table_evidence},
            "tables": [t.as_json() for t in self.tables],
            "tools": [
                {
                    **self.classified[t.name].as_json(),
                    "description": t.description,
                    "parameters": t.parameters,
                }
                for t in self.tools
            ],
            "not_tools": self.skipped,
            "api_graph": [{"from": a, "to": b, "evidence": e} for a, b, e in self.api_links],
            "rules": self.rules_note,
        }


def is_world_path(spec: str | Path) -> bool:
    try:
        return is_world_folder(Path(spec).expanduser())
    except (OSError, ValueError):
        return False


def world_key(spec: str | Path) -> str:
    """The name a world is stored under in runs: its folder's absolute path."""
    return str(Path(spec).expanduser().resolve())


def load_world_domain(spec: str | Path) -> Domain:
    """The world's Domain, loaded once per process."""
    key = world_key(spec)
    if key not in _LOADED:
        _LOADED[key] = build_domain(load_world(key))
    return _LOADED[key]


def load_world(spec: str | Path) -> World:
    config = load_config(spec)
    conn = _private_copy(config.database)
    try:
        schema, tables = introspect(conn, str(config.database))
        mcp = None
        if config.mcp is not None:
            from .mcp_tools import McpWorld

            mcp = McpWorld(config)
            tools, annotations, sql, skipped = mcp.list_tools(conn), mcp.annotations, {}, []
        else:
            tools, sources, skipped = python_tools(config.tools, config.name)
            annotations, sql = {}, {n: s.sql for n, s in sources.items()}
        names = [t.name for t in tools]
        check_overrides(names, config.writes, config.reads, str(config.folder / "world.toml"))
        classified = {
            t.name: classify(
                t.name,
                overrides=(config.writes, config.reads),
                annotations=annotations.get(t.name),
                sql=sql.get(t.name),
            )
            for t in tools
        }
        toolset = ToolSet.of(
            dataclasses.replace(t, writes=classified[t.name].writes) for t in tools
        )
        if config.user_table:
            user_table, evidence = config.user_table, "world.toml: user_table"
        else:
            user_table, evidence = infer_user_table(tables)
        records = WorldRecords(tables, user_table, toolset)
        world = World(
            config, tables, schema, toolset, classified, user_table, evidence, records,
            skipped=skipped, mcp=mcp,
        )  # fmt: skip
        _observe(world, conn)
    finally:
        conn.close()
    world.rules_note = (
        f"executable rules from {config.rules.name}"
        if config.rules
        else "no executable rules (rules.py): the policy is judged by the committee alone"
    )
    return world


def build_domain(world: World) -> Domain:
    config = world.config
    records = world.records
    calls = world.sample_calls

    def seed_examples(db) -> list[dict[str, Any]]:
        return _seed_examples(config)

    return Domain(
        name=config.name,
        description=config.description,
        schema=world.schema,
        tools=world.tools,
        rules=_rules(config),
        generate=_not_generated,
        policy_path=config.policy,
        max_feedback_rounds=config.max_feedback_rounds,
        tasks=TaskHooks(
            sample_records=lambda db, rng: records.sample(db.conn, rng),
            records_for=lambda db, user_id: records.records_for(db.conn, user_id),
            id_choices=records.id_choices,
            sample_calls=lambda db: [dict(c) for c in calls],
            seed_examples=seed_examples,
            api_graph_add=tuple((a, b) for a, b, _ in world.api_links),
        ),
        source_database=config.database,
        sandboxes=world.mcp.sandboxes if world.mcp else None,
        world=world,
    )


def _observe(world: World, conn: sqlite3.Connection) -> None:
    """One call per read tool, with arguments from the first user's records, on a private
    copy: what the results show links tools, and a read that writes is reclassified."""
    ids = world.records.user_ids(conn)
    if not ids:
        return
    records = world.records.collect(conn, ids[0])
    fills = {t.name: world.records.fill(t.name, records) for t in world.tools}
    executor_conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.backup(executor_conn)
    if world.mcp is not None:
        executor_conn.close()
        executor_conn = world.mcp.scratch_connection(conn)
    executor = ToolExecutor(executor_conn, world.tools)
    outputs: dict[str, Any] = {}
    try:
        for tool in world.tools:
            args = fills[tool.name]
            if tool.writes or args is None:
                continue
            try:
                entry = executor.call(tool.name, args)
            except ToolUnavailable as exc:
                raise WorldError(f"{world.config.folder}: {exc}") from None
            if entry.index in executor.undeclared_writes:
                _reclassify(world, tool, f"observed: calling it with {json.dumps(args)} "
                            "changed the database")  # fmt: skip
                continue
            if entry.ok:
                world.sample_calls.append({"name": tool.name, "arguments": args})
                outputs[tool.name] = _leaves(_parsed(entry.observation))
    finally:
        if world.mcp is not None:
            world.mcp.release_scratch(executor_conn)
        else:
            executor_conn.close()
    links = {
        t.name: _leaves(world.records.fill(t.name, records, complete=False)) for t in world.tools
    }
    for a, results in outputs.items():
        for b in world.tools:
            shared = sorted(
                (arg, key)
                for arg, value in links[b.name]
                for key, seen in results
                if seen == value and a != b.name and _related(arg, key)
            )
            if shared:
                arg, key = shared[0]
                world.api_links.append(
                    (a, b.name, f"{a}'s result has {key} = the {arg} that {b.name} takes")
                )


def _reclassify(world: World, tool: Tool, evidence: str) -> None:
    name = tool.name
    if name in world.config.reads:  # the user insists: validate and phase 1 will object
        world.classified[name] = Classified(
            name, False, world.classified[name].evidence + f"; BUT {evidence}"
        )
        return
    world.classified[name] = Classified(name, True, evidence)
    world.tools.tools[name] = dataclasses.replace(tool, writes=True)


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _leaves(value: Any, key: str = "") -> set[tuple[str, str]]:
    """(key, value) of every scalar in a JSON value (list items under their list's key)."""
    if isinstance(value, dict):
        return {pair for k, v in value.items() for pair in _leaves(v, k)}
    if isinstance(value, list):
        return {pair for v in value for pair in _leaves(v, key)}
    return {(key, str(value))} if key and value is not None else set()


def _related(argument: str, key: str) -> bool:
    """`order_id` and `OrderId`, `sku` and `Sku`, `new_order_id` and `OrderId`."""
    a, k = norm(argument).removeprefix("new"), norm(key)
    return a == k or a == k + "s" or (len(k) > 2 and a.endswith(k) and k != "id")


def _private_copy(path: Path) -> sqlite3.Connection:
    """The user's database in memory (their file is opened read-only, never written)."""
    try:
        return read_only_copy(path)
    except (ValueError, FileNotFoundError) as exc:
        raise WorldError(str(exc)) from None


def _rules(config: WorldConfig) -> RuleSet:
    if config.rules is None:
        return RuleSet()
    module = load_module(config.rules, config.name + "_rules")
    rules = getattr(module, "RULES", None)
    if not isinstance(rules, RuleSet):
        raise WorldError(f"{config.rules}: define RULES = RuleSet() (apigen_mt.environments)")
    return rules


def _seed_examples(config: WorldConfig) -> list[dict[str, Any]]:
    if config.tasks is None:
        return []
    from ..taubench import load_tasks

    return [
        {
            "reasoning": "hand-written example",
            "user_id": t.user_id or "",
            "instruction": t.instruction,
            "actions": [a.model_dump() for a in t.actions],
            "outputs": t.outputs,
        }
        for t in load_tasks(config.tasks)[:2]
    ]


def _not_generated(db, seed: int) -> None:
    raise WorldError("a world's database is its own file; it is never generated")
