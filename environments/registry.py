"""The one registry of domains. A domain is a folder under environments/ that registers itself."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from apigen_mt.tools import ToolSet

from .rules import RuleSet
from .schema import Schema

ENTRY_POINT_GROUP = "apigen_mt.domains"


class TaubenchAdapter(Protocol):
    """Maps a domain between τ-bench's JSON collections and our tables."""

    def import_data(self, db: sqlite_utils.Database, data: dict[str, dict[str, Any]]) -> None: ...

    def export_data(self, db: sqlite_utils.Database) -> dict[str, dict[str, Any]]: ...


@dataclass(frozen=True)
class TaskHooks:
    """What phase 1 needs from a domain to propose grounded tasks."""

    # A user and their records, drawn with `rng` from a sandbox's database.
    sample_records: Callable[[sqlite_utils.Database, Any], tuple[str, str]]
    # Calls whose outputs show which output fields feed which arguments (API graph).
    sample_calls: Callable[[sqlite_utils.Database], list[dict[str, Any]]]
    # Hand-written blueprints (dicts in the proposer's output shape) seeding the examples.
    seed_examples: Callable[[sqlite_utils.Database], list[dict[str, Any]]]
    api_graph_add: tuple[tuple[str, str], ...] = ()
    api_graph_remove: tuple[tuple[str, str], ...] = ()
    # Optional: the records of a given user (what `sample_records` returns for them). With
    # it, a run can draw its users from a small pool, so some users get several accepted
    # blueprints and recombination finds parents.
    records_for: Callable[[sqlite_utils.Database, str], str] | None = None
    # Optional: id-like argument names -> the ids the sampled records (parsed JSON) hold for
    # them. The proposer's response schema then allows only those ids (empty: left free).
    id_choices: Callable[[dict[str, Any]], dict[str, list[str]]] | None = None
    # Optional, for tasks that start broken (dual control, τ²'s telecom): the starting
    # scene of an attempt (environments.scene.Scene), drawn with the rng from what the
    # environment holds. Its setup runs before the records are sampled, the proposer
    # writes the fix, the checks demand its assertions hold, the task carries it.
    sample_scene: Callable[[Any, Any], Any] | None = None


@dataclass(frozen=True)
class Domain:
    name: str
    description: str
    schema: Schema
    tools: ToolSet
    rules: RuleSet
    generate: Callable[[sqlite_utils.Database, int], None]  # fill an empty database for a seed
    policy_path: Path
    data_version: str = "1"  # bump when `generate` or the schema changes: invalidates caches
    taubench: TaubenchAdapter | None = None
    taubench_files: tuple[str, ...] = ()
    # τ²-bench's `db.json` <-> our tables (environments.tau2.Tau2Adapter): a domain with it
    # loads τ²'s data and reports τ²'s state hash.
    tau2: Any = None
    max_feedback_rounds: int = 3
    tasks: TaskHooks | None = None  # phase-1 hooks; a domain without them can't propose
    # A world's own database file (environments/worlds): the master is a copy of it, never
    # the file itself, and `generate` is not used.
    source_database: Path | None = None
    # Where sandboxes come from, given the environment (default: in-memory copies of the
    # master). An MCP world's sandboxes are files its servers open.
    sandboxes: Callable[[Any], Any] | None = None
    world: Any = None  # the loaded world (environments.worlds.World) behind this domain
    # Dual control (τ²'s telecom): the user's own tools on their side of the sandbox, the
    # functions tasks set the scene with and assert on ({"assistant"|"user": name -> fn(db,
    # **arguments)}), and the synchronisation of the two sides after every call.
    user_tools: ToolSet | None = None
    functions: dict[str, dict[str, Callable[..., Any]]] = field(default_factory=dict)
    sync: Callable[[sqlite_utils.Database], None] | None = None

    @cached_property
    def policy(self) -> str:
        return self.policy_path.read_text(encoding="utf-8")


_DOMAINS: dict[str, Domain] = {}
_discovered = False


def register_domain(domain: Domain, *, replace: bool = False) -> Domain:
    if domain.name in _DOMAINS and not replace and _DOMAINS[domain.name] is not domain:
        raise ValueError(f"a domain named {domain.name!r} is already registered")
    _DOMAINS[domain.name] = domain
    return domain


def get_domain(name: str) -> Domain:
    """A registered domain by name, or a world folder (one with a `world.toml`) by path."""
    _discover()
    if name in _DOMAINS:
        return _DOMAINS[name]
    from .worlds import is_world_path, load_world_domain

    if is_world_path(name):
        return load_world_domain(name)
    raise KeyError(
        f"unknown domain {name!r}; known: {', '.join(domain_names())}, "
        "or a folder with a world.toml"
    ) from None


def domain_key(spec: str) -> str:
    """How a run stores its domain: a registered name as it is, a world folder as its
    absolute path (so a resume, a worker process or a Ray task finds the same folder)."""
    if spec in _DOMAINS:
        return spec
    from .worlds import is_world_path, world_key

    return world_key(spec) if is_world_path(spec) else spec


def domain_names() -> list[str]:
    _discover()
    return sorted(_DOMAINS)


def _discover() -> None:
    """Import every domain folder under environments/, then installed entry points."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg:
            importlib.import_module(f"{__package__}.{info.name}")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        register_domain(loaded() if callable(loaded) else loaded)
