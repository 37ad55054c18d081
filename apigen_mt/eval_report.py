"""Scores of an evaluation: pass^k with confidence intervals, failures by reason, tokens.

pass^k is τ-bench's: the chance that k i.i.d. trials of a task all succeed, estimated per
task as C(c, k) / C(n, k) from c successes in n trials, averaged over tasks. Intervals are
a percentile bootstrap over tasks (seeded), so they reflect how many tasks there are.
"""

from __future__ import annotations

import random
from collections import Counter
from math import comb
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .pricing import PriceTable
from .report import TokenLine, failures_by_side, user_fidelity
from .store import RunStore


def pass_hat_k(counts: list[tuple[int, int]], k: int) -> float:
    """Mean over tasks of C(c, k) / C(n, k), for (successes c, trials n) per task."""
    if not counts:
        raise ValueError("no tasks")
    if any(n < k for _, n in counts):
        raise ValueError(f"pass^{k} needs at least {k} trials per task")
    return sum(comb(c, k) / comb(n, k) for c, n in counts) / len(counts)


def bootstrap_interval(
    counts: list[tuple[int, int]],
    k: int,
    *,
    level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    rng = random.Random(seed)
    values = sorted(pass_hat_k([rng.choice(counts) for _ in counts], k) for _ in range(resamples))
    lo = values[int((1 - level) / 2 * resamples)]
    hi = values[min(resamples - 1, int((1 + level) / 2 * resamples))]
    return lo, hi


class TaskResult(BaseModel):
    task_id: str
    source: str
    successes: int
    trials: int


class EvalReport(BaseModel):
    eval_id: str
    label: str
    domain: str
    status: str
    trials: int
    tasks: int
    pass_hat_k: list[float]  # k = 1..trials
    ci95: list[tuple[float, float]]
    per_task: list[TaskResult]
    failures: dict[str, int]  # failed trials by reason
    wrong_tables: dict[str, int]  # for wrong-state failures: which tables differ
    # τ² tasks: each component's mean over trials, and each trial's reward and components
    failures_by_side: dict[str, int] = {}  # failed trials by who failed
    user_fidelity: dict[str, int] = {}  # fidelity checks over every user turn
    reward_components: dict[str, float] = {}
    trial_rewards: list[dict[str, Any]] = []
    total: TokenLine
    cost_per_trial: float | None

    def markdown(self) -> str:
        head = f"### {self.label or self.eval_id} ({self.domain}, {self.tasks} tasks)\n\n"
        rows = ["| k | pass^k | 95% CI |", "|---|---|---|"]
        rows += [
            f"| {k} | {p:.3f} | {lo:.3f} – {hi:.3f} |"
            for k, (p, (lo, hi)) in enumerate(zip(self.pass_hat_k, self.ci95, strict=True), 1)
        ]
        fails = "\n".join(f"- {reason}: {n}" for reason, n in self.failures.items())
        if self.failures_by_side:
            fails += "\n- by side: " + ", ".join(
                f"{k} {v}" for k, v in self.failures_by_side.items()
            )
        return head + "\n".join(rows) + ("\n\nFailed trials:\n" + fails if fails else "") + "\n"


def failure_kind(t: dict[str, Any]) -> str:
    """Why a trial failed, in a few words a reader can count."""
    if t["ended_by"] in ("human_failure", "assistant_failure"):
        return t["ended_by"].replace("_", " ")
    info = t.get("reward_info")
    if info:  # a τ² task: the components at 0, or the cut-off
        if info.get("note"):
            return f"cut off ({t['ended_by'].replace('_', ' ')}): 0"
        zero = [k for k, v in info.get("components", {}).items() if v < 1]
        return ", ".join(f"{k} 0" for k in zero) or "unverified"
    kinds = []
    if t["diff"]:
        kinds.append("wrong state")
    if t["missing_outputs"]:
        kinds.append("missing outputs")
    if not kinds:
        kinds.append("unverified")
    if t["ended_by"] in ("turn_limit", "transfer"):
        kinds.append(f"after {t['ended_by'].replace('_', ' ')}")
    return ", ".join(kinds)


def eval_report(
    store: RunStore, eval_id: str, prices: PriceTable | None = None, *, seed: int = 0
) -> EvalReport:
    run = store.run(eval_id)
    if run is None or run["config"].get("kind") != "eval":
        raise LookupError(f"no evaluation {eval_id!r} in {store.path}")
    config = run["config"]
    trials = store.run_trajectories(eval_id)
    tasks = store.tasks(eval_id)
    by_task: dict[str, list[dict]] = {t["id"]: [] for t in tasks}
    for t in trials:
        by_task.setdefault(t["task_id"], []).append(t)
    sources = {t["id"]: t["data"].get("source", "") for t in tasks}
    per_task = [
        TaskResult(
            task_id=task_id,
            source=sources.get(task_id, ""),
            successes=sum(t["accepted"] for t in done),
            trials=len(done),
        )
        for task_id, done in by_task.items()
    ]
    counts = [(r.successes, r.trials) for r in per_task if r.trials]
    n = min((r.trials for r in per_task), default=0)
    ks = range(1, n + 1) if counts else range(0)
    failed = [t for t in trials if not t["accepted"]]
    tables = Counter(c["table"] for t in failed for c in t["diff"])
    total = TokenLine()
    prices = prices or PriceTable()
    for u in store.usage(eval_id):
        cost = prices.cost(u["model"], u["prompt_tokens"], u["completion_tokens"])
        total.add(u["calls"], u["prompt_tokens"], u["completion_tokens"], cost)
    scored = [t for t in trials if t.get("reward_info")]
    names = sorted({k for t in scored for k in t["reward_info"]["components"]})
    components = {
        k: sum(t["reward_info"]["components"].get(k, 0.0) for t in scored) / len(scored)
        for k in names
    }
    trial_rewards = [
        {
            "task": sources.get(t["task_id"]) or t["task_id"],
            "trial": t["attempt"],
            "reward": t["reward"],
            "components": t["reward_info"]["components"],
        }
        for t in scored
    ]
    return EvalReport(
        eval_id=eval_id,
        label=config.get("label") or eval_id,
        domain=run["domain"],
        status=run["status"],
        trials=config["trials"],
        tasks=len(per_task),
        pass_hat_k=[pass_hat_k(counts, k) for k in ks],
        ci95=[bootstrap_interval(counts, k, seed=seed) for k in ks],
        per_task=per_task,
        failures=dict(Counter(failure_kind(t) for t in failed).most_common()),
        wrong_tables=dict(tables.most_common()),
        failures_by_side=failures_by_side(trials),
        user_fidelity=user_fidelity(trials),
        reward_components=components,
        trial_rewards=trial_rewards,
        total=total,
        cost_per_trial=total.cost / len(trials) if trials and total.cost is not None else None,
    )


def compare_markdown(a: EvalReport, b: EvalReport) -> str:
    rows = [
        f"| k | {a.label} | {b.label} | difference |",
        "|---|---|---|---|",
    ]
    for k in range(1, min(len(a.pass_hat_k), len(b.pass_hat_k)) + 1):
        pa, pb = a.pass_hat_k[k - 1], b.pass_hat_k[k - 1]
        (la, ha), (lb, hb) = a.ci95[k - 1], b.ci95[k - 1]
        left, right = f"{pa:.3f} ({la:.2f}–{ha:.2f})", f"{pb:.3f} ({lb:.2f}–{hb:.2f})"
        rows.append(f"| {k} | {left} | {right} | {pb - pa:+.3f} |")
    note = "" if a.tasks == b.tasks else f"\n\nNote: {a.tasks} vs {b.tasks} tasks."
    return "\n".join(rows) + note + "\n"


def plot_curves(reports: list[EvalReport], path: str | Path) -> Path:
    """pass^k against k, one line (with its 95% band) per evaluation, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plots need matplotlib: pip install 'apigen-mt[eval]'") from None
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for r in reports:
        ks = list(range(1, len(r.pass_hat_k) + 1))
        ax.plot(ks, r.pass_hat_k, marker="o", label=f"{r.label} ({r.tasks} tasks)")
        ax.fill_between(ks, [lo for lo, _ in r.ci95], [hi for _, hi in r.ci95], alpha=0.2)
    ax.set(xlabel="k (trials that must all succeed)", ylabel="pass^k", ylim=(0, 1.02))
    ax.set_xticks(range(1, max((len(r.pass_hat_k) for r in reports), default=1) + 1))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
