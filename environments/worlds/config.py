"""`world.toml`: what a world folder declares, read with errors that name the file and line."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORLD_FILE = "world.toml"
KEYS = {
    "name": "the world's name",
    "description": "one line on what the world is",
    "database": "the initial state, an SQLite file (never written to)",
    "policy": "the agent's policy (Markdown)",
    "tools": "a Python module of plain functions taking a sqlite3.Connection first",
    "mcp": "instead of `tools`: an MCP server ([mcp] command, database_env, timeout_s)",
    "user_table": "the table whose row a task is about (inferred when absent)",
    "writes": "tool names that write (overrides the inferred classification)",
    "reads": "tool names that only read (overrides the inferred classification)",
    "rules": "optional executable policy rules (a module with RULES = RuleSet())",
    "tasks": "optional hand-written tasks in τ-bench's shape (default tasks.json)",
    "max_feedback_rounds": "phase 1's feedback rounds for this world (default 3)",
}
MCP_KEYS = {
    "command": "the server's command line, as a list (stdio)",
    "database_env": "the environment variable that gives the server its database path",
    "timeout_s": "seconds a call (and a start) may take (default 30)",
    "env": "extra environment variables for the server",
}


class WorldError(ValueError):
    """A world folder that cannot be used, with the file (and line) at fault."""


@dataclass(frozen=True)
class McpConfig:
    command: tuple[str, ...]
    database_env: str = "WORLD_DB"
    timeout_s: float = 30.0
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorldConfig:
    folder: Path
    name: str
    description: str
    database: Path
    policy: Path
    tools: Path | None
    mcp: McpConfig | None
    user_table: str | None
    writes: tuple[str, ...]
    reads: tuple[str, ...]
    rules: Path | None
    tasks: Path | None

    max_feedback_rounds: int = 3


def is_world_folder(path: Path) -> bool:
    return (path / WORLD_FILE).is_file()


def load_config(folder: Path | str) -> WorldConfig:
    folder = Path(folder).expanduser().resolve()
    file = folder / WORLD_FILE
    if not file.is_file():
        raise WorldError(f"{folder}: no {WORLD_FILE} (a world folder needs one)")
    text = file.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorldError(f"{file}: not valid TOML: {exc}") from None
    where = _Locator(file, text)
    for key in raw:
        if key not in KEYS:
            raise WorldError(where.at(key, f"unknown key {key!r}; known keys: {', '.join(KEYS)}"))
    mcp = _mcp(raw.get("mcp"), where) if "mcp" in raw else None
    if mcp is not None and "tools" in raw:
        raise WorldError(where.at("tools", "give either `tools` or `[mcp]`, not both"))
    if mcp is None and "tools" not in raw:
        raise WorldError(f'{file}: give `tools = "tools.py"` or an `[mcp]` table')
    name = _text(raw, "name", where, default=folder.name)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise WorldError(where.at("name", f"name {name!r}: letters, digits, '_', '-', '.'"))

    def path_of(key: str, default: str | None, must_exist: bool = True) -> Path | None:
        value = _text(raw, key, where, default=default)
        if value is None:
            return None
        path = (folder / value).resolve()
        if must_exist and not path.is_file():
            raise WorldError(where.at(key, f"{key} = {value!r}: no such file ({path})"))
        return path

    tasks = path_of("tasks", None)
    if tasks is None and (folder / "tasks.json").is_file():
        tasks = folder / "tasks.json"
    rounds = raw.get("max_feedback_rounds", 3)
    if not isinstance(rounds, int) or isinstance(rounds, bool) or not 1 <= rounds <= 10:
        raise WorldError(where.at("max_feedback_rounds", "max_feedback_rounds: 1 to 10"))
    return WorldConfig(
        folder=folder,
        name=name,
        description=_text(raw, "description", where, default=f"A world from {folder}"),
        database=path_of("database", "app.sqlite"),
        policy=path_of("policy", "policy.md"),
        tools=path_of("tools", None) if mcp is None else None,
        mcp=mcp,
        user_table=_text(raw, "user_table", where, default=None),
        writes=_names(raw, "writes", where),
        reads=_names(raw, "reads", where),
        rules=path_of("rules", None),
        tasks=tasks,
        max_feedback_rounds=rounds,
    )


def _mcp(value: Any, where: _Locator) -> McpConfig:
    if not isinstance(value, dict):
        raise WorldError(where.at("mcp", "[mcp] must be a table with a `command`"))
    for key in value:
        if key not in MCP_KEYS:
            raise WorldError(
                where.at(key, f"unknown key {key!r} in [mcp]; known keys: {', '.join(MCP_KEYS)}")
            )
    command = value.get("command")
    if isinstance(command, str):
        command = command.split()
    if not command or not all(isinstance(c, str) and c for c in command):
        raise WorldError(where.at("command", 'command = ["python", "server.py"] (a list)'))
    env = value.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise WorldError(where.at("env", "[mcp] env: a table of strings"))
    timeout = value.get("timeout_s", 30)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise WorldError(where.at("timeout_s", "[mcp] timeout_s: a positive number"))
    database_env = value.get("database_env", "WORLD_DB")
    if not isinstance(database_env, str) or not database_env:
        raise WorldError(where.at("database_env", "[mcp] database_env: a variable name"))
    return McpConfig(tuple(command), database_env, float(timeout), dict(env))


def _text(raw: dict, key: str, where: _Locator, default: str | None) -> str | None:
    value = raw.get(key, default)
    if value is not None and not isinstance(value, str):
        raise WorldError(where.at(key, f"{key} must be a string, not {type(value).__name__}"))
    return value


def _names(raw: dict, key: str, where: _Locator) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorldError(where.at(key, f'{key} must be a list of tool names, e.g. ["cancel"]'))
    return tuple(value)


class _Locator:
    """Finds the line a key is written on, for error messages."""

    def __init__(self, file: Path, text: str):
        self.file, self.lines = file, text.splitlines()

    def at(self, key: str, message: str) -> str:
        pattern = re.compile(rf"^\s*(\[\s*)?{re.escape(key)}\s*(=|\])")
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                return f"{self.file}:{number}: {message}"
        return f"{self.file}: {message}"
