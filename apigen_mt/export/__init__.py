"""Exporting a run's accepted trajectories for training.

    sharegpt  one JSON file, a list of APIGen-MT-5k-shaped rows
    openai    JSONL of {messages, tools}
    hf        a `datasets` Parquet dataset with a dataset card (needs the `hf` extra)
    tau2-tasks  the kept dialogues' tasks as a τ² task file (a τ² domain's run;
              export/tau2_tasks.py), for τ²'s own runner, `eval` and `replay`

Only accepted, non-duplicate trajectories are exported; `pairs=True` also writes
preference pairs (accepted vs rejected dialogue of the same task) as JSONL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from apigen_mt.environments import get_domain
from apigen_mt.quality import NearDuplicateFilter
from apigen_mt.store import RunStore

from .formats import Arguments, openai_row, sharegpt_row

Format = Literal["sharegpt", "openai", "hf", "tau2-tasks"]
FORMATS = ("sharegpt", "openai", "hf", "tau2-tasks")
ARGUMENTS = ("object", "string")


# How a finished conversation ends; one cut off by the step limit or a failing role may
# reach the right state but teaches no ending, so exports leave it out unless asked.
FINISHED = ("user_stop", "transfer")


@dataclass(frozen=True)
class PassRateRange:
    """`export --min-pass-rate/--max-pass-rate`: the tasks a curriculum keeps, by the
    pass rate the newest evaluation measured (`apigen-mt eval --run RUN`)."""

    minimum: float = 0.0
    maximum: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.minimum <= self.maximum <= 1.0:
            raise ValueError(
                f"pass-rate range must satisfy 0 <= min <= max <= 1 "
                f"(got {self.minimum}..{self.maximum})"
            )

    def admits(self, rate: float) -> bool:
        return self.minimum <= rate <= self.maximum


def select_trajectories(
    store: RunStore,
    run_id: str,
    *,
    include_unfinished: bool = False,
    dedup_threshold: float | None = None,
    pass_rates: PassRateRange | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The accepted, unique trajectories to export, and how many were left out and why:
    unfinished (unless `include_unfinished`), outside the pass-rate range (with
    `pass_rates`; a task no evaluation measured is left out of a filtered export), and
    near duplicates of an instruction already taken (with `dedup_threshold`)."""
    if store.run(run_id) is None:
        raise LookupError(f"no run {run_id!r} in {store.path}")
    keep = NearDuplicateFilter(dedup_threshold) if dedup_threshold is not None else None
    instructions = {t["id"]: t["data"].get("instruction", "") for t in store.tasks(run_id)}
    chosen = []
    left_out = {"unfinished": 0, "near_duplicates": 0, "pass_rate": 0, "no_pass_rate": 0}
    for t in store.run_trajectories(run_id):
        if not t["accepted"] or t["duplicate"]:
            continue
        measured = store.pass_rate(t["task_id"]) if pass_rates else None
        if not include_unfinished and t["ended_by"] not in FINISHED:
            left_out["unfinished"] += 1
        elif pass_rates and measured is None:
            left_out["no_pass_rate"] += 1
        elif pass_rates and not pass_rates.admits(measured["pass_rate"]):
            left_out["pass_rate"] += 1
        elif keep and keep.match(t["id"], instructions.get(t["task_id"], "")) is not None:
            left_out["near_duplicates"] += 1
        else:
            chosen.append(t)
    return chosen, left_out


def accepted_rows(
    store: RunStore,
    run_id: str,
    fmt: Format,
    *,
    arguments: Arguments = "object",
    dedup_threshold: float | None = None,
    include_unfinished: bool = False,
    pass_rates: PassRateRange | None = None,
) -> list[dict[str, Any]]:
    """Rows of the trajectories `select_trajectories` keeps, in the format asked."""
    chosen, _ = select_trajectories(
        store, run_id, include_unfinished=include_unfinished, dedup_threshold=dedup_threshold,
        pass_rates=pass_rates,
    )  # fmt: skip
    return _rows(store, run_id, chosen, fmt, arguments)


def _rows(
    store: RunStore, run_id: str, chosen: list[dict], fmt: Format, arguments: Arguments
) -> list[dict[str, Any]]:
    if arguments not in ARGUMENTS:
        raise ValueError(f"unknown arguments form {arguments!r}; choose object or string")
    domain = get_domain(store.run(run_id)["domain"])
    policy, tools = domain.policy, domain.tools.openai_schemas()
    rows = []
    for t in chosen:
        messages = store.transcript(t["id"])
        if fmt == "openai":
            row = openai_row(messages, policy, tools, arguments=arguments)
        else:
            row = sharegpt_row(messages, policy, tools)
        row["id"] = t["id"]
        measured = store.pass_rate(t["task_id"])  # difficulty, for curricula (None: unmeasured)
        row["pass_rate"] = measured["pass_rate"] if measured else None
        row["pass_rate_model"] = measured["model"] if measured else None
        rows.append(row)
    return rows


def preference_pairs(
    store: RunStore, run_id: str, *, arguments: Arguments = "object"
) -> list[dict[str, Any]]:
    """For each task with both outcomes: the accepted and a rejected dialogue (OpenAI shape).
    The paper throws failures away; they make natural negatives for DPO-style training."""
    run = store.run(run_id)
    domain = get_domain(run["domain"])
    policy, tools = domain.policy, domain.tools.openai_schemas()
    by_task: dict[str, dict[str, list]] = {}
    for t in store.run_trajectories(run_id):
        side = "chosen" if t["accepted"] and not t["duplicate"] else "rejected"
        if side == "rejected" and t["accepted"]:
            continue  # a duplicate success is not a negative
        by_task.setdefault(t["task_id"], {"chosen": [], "rejected": []})[side].append(t)
    pairs = []
    for task_id, sides in by_task.items():
        for chosen, rejected in zip(sides["chosen"], sides["rejected"], strict=False):
            pairs.append(
                {
                    "task_id": task_id,
                    "chosen": openai_row(
                        store.transcript(chosen["id"]), policy, tools, arguments=arguments
                    ),
                    "rejected": openai_row(
                        store.transcript(rejected["id"]), policy, tools, arguments=arguments
                    ),
                    "rejected_reason": rejected["reason"],
                }
            )
    return pairs


def export_run(
    store: RunStore,
    run_id: str,
    fmt: Format,
    dest: str | Path,
    *,
    pairs: bool = False,
    arguments: Arguments = "object",
    dedup_threshold: float | None = None,
    include_unfinished: bool = False,
    pass_rates: PassRateRange | None = None,
) -> dict[str, Any]:
    """Write the export under `dest`; returns {format, rows, path(s)}. `arguments`: tool
    call arguments in OpenAI rows as JSON objects (chat templates) or strings (the API)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    chosen, left_out = select_trajectories(
        store, run_id, include_unfinished=include_unfinished, dedup_threshold=dedup_threshold,
        pass_rates=pass_rates,
    )  # fmt: skip
    if fmt == "tau2-tasks":
        from .tau2_tasks import tau2_task_rows

        rows = tau2_task_rows(store, run_id, chosen)
    else:
        rows = _rows(store, run_id, chosen, fmt, arguments)
    if fmt == "tau2-tasks":
        path = dest / f"{run_id}.tau2-tasks.json"
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    elif fmt == "sharegpt":
        path = dest / f"{run_id}.sharegpt.json"
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    elif fmt == "openai":
        path = dest / f"{run_id}.openai.jsonl"
        _write_jsonl(path, rows)
    else:
        from .hf import save_hf_dataset

        path = save_hf_dataset(
            store,
            run_id,
            rows,
            dest / f"{run_id}-hf",
            left_out=left_out,
            threshold=dedup_threshold,
        )
    result: dict[str, Any] = {
        "format": fmt,
        "rows": len(rows),
        "path": str(path),
        "near_duplicates_left_out": left_out["near_duplicates"],
        "unfinished_left_out": left_out["unfinished"],
    }
    if pass_rates:
        result["pass_rate_left_out"] = left_out["pass_rate"]
        result["no_pass_rate_left_out"] = left_out["no_pass_rate"]
    if pairs:
        pair_rows = preference_pairs(store, run_id, arguments=arguments)
        pairs_path = dest / f"{run_id}.pairs.jsonl"
        _write_jsonl(pairs_path, pair_rows)
        result.update(pairs=len(pair_rows), pairs_path=str(pairs_path))
    return result


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
