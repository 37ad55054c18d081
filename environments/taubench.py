"""τ-bench compatibility: its data hash, task files, and replaying tasks on our tools."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from apigen_mt.tools import ToolCall, ToolError

from .environment import Environment


class TaubenchTask(BaseModel):
    """One task in τ-bench's `tasks_*.json` format."""

    user_id: str | None = None
    instruction: str = ""
    actions: list[ToolCall]
    outputs: list[str] = Field(default_factory=list)
    # Ours, optional: how a computed output (a total) follows from the calls' results.
    computations: list[dict[str, str]] = Field(default_factory=list)
    # A τ² task's own criteria (environments.tau2.tasks.as_task): its id, reward basis,
    # gold actions with compare_args, communicate info, NL assertions, setup calls.
    tau2: dict[str, Any] | None = None


class ReplayResult(BaseModel):
    task_index: int
    observations: list[str]
    data_hash: str


def taubench_hash(data: Any) -> str:
    """τ-bench's database hash: sha256 of str() of the data as nested sorted tuples (dicts
    as their (key, value) pairs sorted by key, lists as tuples). The text is written
    directly, as str() would write those tuples, without building them (2x faster)."""
    text = _tuple_text(data) if isinstance(data, dict | list) else str(data)
    return hashlib.sha256(text.encode()).hexdigest()


def _tuple_text(item: Any) -> str:
    if isinstance(item, dict):
        inner = [f"({k!r}, {_tuple_text(v)})" for k, v in sorted(item.items(), key=_key)]
    elif isinstance(item, list):
        inner = [_tuple_text(v) for v in item]
    else:
        return repr(item)  # what str() of a tuple shows of each element
    return f"({inner[0]},)" if len(inner) == 1 else f"({', '.join(inner)})"


def _key(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def load_tasks(path: Path | str, split: str | None = None) -> list[TaubenchTask]:
    """Tasks from a JSON list: τ-bench's shape, or τ²'s `tasks.json` (with `split`, the
    tasks of that split in `split_tasks.json` beside it). A file that is not JSON, or a
    malformed task, raises ValueError in plain words: the file, the task and the field."""
    from .tau2.tasks import as_task, is_tau2_task_file, load_tau2_tasks

    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read ({exc})") from None
    if is_tau2_task_file(raw):
        tau2 = load_tau2_tasks(path, split)
        return [TaubenchTask.model_validate(as_task(t, f"{path}#{t.id}")) for t in tau2]
    if split is not None:
        raise ValueError(f"--split {split}: {path} is not a τ² task file (τ-bench's have none)")
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of tasks, got {type(raw).__name__}")
    tasks = []
    for i, item in enumerate(raw):
        try:
            tasks.append(TaubenchTask.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(_problem(e) for e in exc.errors(include_url=False))
            raise ValueError(f"{path}: task {i}: {problems}") from None
    return tasks


def _problem(error: dict[str, Any]) -> str:
    """One pydantic error as words: `actions[0].name must be a string (got 3)`."""
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
    where = where.lstrip(".") or "the task"
    if error["type"] == "missing":
        return f"{where} is missing"
    message = error["msg"][0].lower() + error["msg"][1:]
    message = message.replace("input should be", "must be")
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {json.dumps(got)[:40]})"
    return f"{where} {message}{shown}"


def reported_state_hash(env: Environment, sandbox) -> str:
    """The state hash a user compares: τ²'s `get_db_hash()` for a τ² domain, else ours."""
    if env.domain.tau2 is not None:
        from .tau2.hashing import tau2_hash_of

        return tau2_hash_of(env, sandbox)
    return sandbox.state_hash()


def run_setup(sandbox, task: TaubenchTask | dict[str, Any]) -> None:
    """A τ² task's initialization actions, before the episode or the gold replay, on the
    agent's side or the user's: a tool, or one of the domain's scene-setting functions.
    They are nobody's actions: they leave the traces empty. A failing one is an error (τ²
    raises)."""
    tau2 = task.get("tau2") if isinstance(task, dict) else task.tau2
    setup = (tau2 or {}).get("setup") or []
    domain = sandbox.env.domain
    for call in setup:
        side, name, arguments = call["env_type"], call["func_name"], call["arguments"]
        if side == "user" and domain.user_tools is None:
            raise ValueError(
                f"task {tau2.get('id')!r}: a user-side initialization action "
                f"({name}) needs a domain with user tools"
            )
        tools = domain.user_tools if side == "user" else domain.tools
        if name in tools and name not in domain.functions.get(side, {}):
            entry = sandbox.call(name, arguments, requestor=side)
            problem = "" if entry.ok else entry.observation
        else:
            try:
                sandbox.function(side, name, arguments)
                problem = ""
            except ToolError as exc:
                problem = str(exc)
        if problem:
            raise ValueError(f"task {tau2.get('id')!r}: initialization failed: {problem}")
    if setup:
        sandbox.executor.trace.clear()
        if sandbox.user_executor is not None:
            sandbox.user_executor.trace.clear()


def export_state(env: Environment, sandbox) -> dict[str, dict[str, Any]]:
    """A sandbox's state in τ-bench's JSON shape."""
    return env.domain.taubench.export_data(sandbox.db)


def replay(env: Environment, tasks: list[TaubenchTask]) -> Iterator[ReplayResult]:
    """Each task's actions in a fresh sandbox: what the agent would see, and the final hash."""
    for index, task in enumerate(tasks):
        with env.sandbox() as sandbox:
            trace = sandbox.run(task.actions)
            yield ReplayResult(
                task_index=index,
                observations=[e.observation for e in trace],
                # Domains without a τ-bench shape (banking) report our own state hash.
                data_hash=taubench_hash(export_state(env, sandbox))
                if env.domain.taubench
                else sandbox.state_hash(),
            )
