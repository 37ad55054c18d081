"""The tasks an RL environment serves: a task file (τ-bench's or τ²'s format) or a
generation run's accepted tasks, with the database they run on, each task's gold state
hash (computed once, on first use) and its measured difficulty.

`tasks` and `out` mean what they mean for `apigen-mt eval`: `tasks` is a file (it exists)
or a run id in the store under `out`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apigen_mt.environments import Environment, domain_key, get_domain
from apigen_mt.environments.taubench import load_tasks, run_setup
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.graphs.verify import gold_state_hash
from apigen_mt.runs import STORE_FILE, RunNotFound, environment_for
from apigen_mt.store import RunStore

DEFAULT_OUT = Path("apigen-runs")  # the CLI's default --out


@dataclass
class TaskSet:
    """Tasks as dicts ({user_id, instruction, persona, actions, outputs, tau2, source,
    pass_rate, pass_rate_model}) and the environment they run against."""

    domain: str
    env: Environment
    tasks: list[dict[str, Any]]
    _gold: dict[int, str] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.tasks)

    def task(self, index: int) -> dict[str, Any]:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"task_index must be an int, not {type(index).__name__}")
        if not 0 <= index < len(self.tasks):
            raise IndexError(f"task_index {index} out of range: {len(self.tasks)} tasks")
        return self.tasks[index]

    @property
    def source_file(self) -> str | None:
        """The task file the tasks came from (None for a run's tasks)."""
        first = self.tasks[0]["source"] if self.tasks else ""
        return first.split("#")[0] if "#" in first else None

    def gold_hash(self, index: int) -> str:
        """The state the task's gold actions reach (after its setup), computed once."""
        if index not in self._gold:
            task = self.task(index)
            known = task.get("gold_hash")
            self._gold[index] = known or gold_state_hash(
                self.env, task["actions"], prepare=lambda gold: run_setup(gold, task)
            )
        return self._gold[index]

    def filtered(self, min_pass_rate: float | None, max_pass_rate: float | None) -> TaskSet:
        """The tasks whose measured pass rate lies in the range (unmeasured ones are left
        out once a bound is given): a curriculum's slice."""
        if min_pass_rate is None and max_pass_rate is None:
            return self
        low, high = min_pass_rate or 0.0, 1.0 if max_pass_rate is None else max_pass_rate
        kept = [
            t for t in self.tasks if t["pass_rate"] is not None and low <= t["pass_rate"] <= high
        ]
        return TaskSet(self.domain, self.env, kept)

    def close(self) -> None:
        self.env.close()


def load_task_set(
    domain: str,
    tasks: str | Path,
    *,
    out: str | Path | None = None,
    data_dir: str | Path | None = None,
    split: str | None = None,
    seed: int = 0,
) -> TaskSet:
    """The task set `eval --domain D --tasks FILE` (or `--run RUN`) would evaluate."""
    key = domain_key(domain)
    get_domain(key)  # an unknown domain fails here, naming the known ones
    # the run store is read, never created or written: pass rates, a run's tasks
    store_path = Path(out or DEFAULT_OUT) / STORE_FILE
    store = RunStore.read_only(store_path) if store_path.is_file() else None
    path = Path(tasks)
    if path.is_file():
        resolved = path.resolve()
        env = Environment.for_data(key, data_dir, tasks_file=resolved, seed=seed)
        rows = [
            {
                **t.model_dump(),
                "persona": "",
                "source": f"{resolved}#{t.tau2['id'] if t.tau2 else i}",
            }
            for i, t in enumerate(load_tasks(resolved, split))
        ]
    elif store is None:
        raise RunNotFound(
            f"{str(tasks)!r} is neither a task file nor a generation run (no run store at "
            f"{store_path})"
        )
    else:
        env, rows = _run_tasks(store, key, str(tasks))
    if not rows:
        raise ValueError(f"no tasks in {tasks}")
    for row in rows:  # the newest evaluation's pass rate: a curriculum's difficulty signal
        measured = store.pass_rate(row["source"]) if store is not None else None
        row["pass_rate"] = measured["pass_rate"] if measured else None
        row["pass_rate_model"] = measured["model"] if measured else None
    return TaskSet(key, env, rows)


def _run_tasks(store, domain: str, run_id: str) -> tuple[Environment, list[dict[str, Any]]]:
    row = store.run(run_id)
    if row is None or row["config"].get("kind") == "eval":
        raise RunNotFound(f"{run_id!r} is neither a task file nor a generation run in {store.path}")
    if row["domain"] != domain:
        raise ValueError(f"run {run_id} is a {row['domain']} run, not {domain}")
    accepted = {b["id"] for b in store.blueprints(run_id, status="accepted")}
    rows = [
        {**t["data"], "source": t["id"]}
        for t in store.tasks(run_id)
        if t["blueprint_id"] in accepted
    ]
    return environment_for(PipelineConfig.model_validate(row["config"])), rows
