"""The yield funnel of a run: how many items passed each stage, why the rest did not, and
what the tokens cost, per stage and per accepted trajectory."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import BaseModel

from .pricing import PriceTable
from .quality import QualityReport, quality_report
from .store import RunStore

STAGES = ["propose", "format", "execution", "policy", "committee"]


class TokenLine(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = 0.0  # None: some model of this line has no price

    def add(self, calls: int, prompt: int, completion: int, cost: float | None) -> None:
        self.calls += calls
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.cost = None if cost is None or self.cost is None else self.cost + cost


class RunReport(BaseModel):
    run_id: str
    domain: str
    status: str
    seed: int
    code_version: str
    config: dict[str, Any]
    funnel: dict[str, int]  # ordered: each count passed the stage before it
    blueprint_outcomes: dict[str, int]  # final status of every proposal (sums to `proposed`)
    top_rejection_reasons: list[tuple[str, int]]
    dialogue_outcomes: dict[str, int]  # how dialogues ended, accepted or not
    dialogue_failures: dict[str, int]  # why rejected dialogues failed
    # who failed, over rejected dialogues (agent | user | task | infrastructure)
    failures_by_side: dict[str, int] = {}
    # user-fidelity checks over every user turn: candidates rejected, and flags on replies sent
    user_fidelity: dict[str, int] = {}
    failed_units: int
    tokens_by_stage: dict[str, TokenLine]
    tokens_by_role: dict[str, TokenLine]
    total: TokenLine
    cost_per_trajectory: float | None
    quality: QualityReport | None = None
    # Distributions as {value: count}: the writes each attempt aimed at (every attempt), and
    # the writes and rules in play of the accepted blueprints.
    complexity: dict[str, dict[str, int]] = {}

    def adds_up(self) -> bool:
        """Every proposal has one final status, every attempt one outcome."""
        f = self.funnel
        return sum(self.blueprint_outcomes.values()) == f["proposed"] and f["attempts"] == f[
            "attempts_accepted"
        ] + f["attempts_rejected"] + f["attempts_failed"] + f.get("attempts_unfinished", 0)


def failures_by_side(trajectories: list[dict[str, Any]]) -> dict[str, int]:
    """Rejected dialogues by who failed; rows stored before sides were recorded count as
    the agent's."""
    sides = Counter(t.get("side") or "agent" for t in trajectories if not t["accepted"])
    return dict(sides.most_common())


def user_fidelity(trajectories: list[dict[str, Any]]) -> dict[str, int]:
    """Each fidelity check's count over every user turn: the candidates it rejected plus
    the replies sent with it as a flag; `turns` is how many user turns there were."""
    counts: Counter[str] = Counter()
    for t in trajectories:
        for turn in t.get("fidelity") or []:
            counts["turns"] += 1
            counts.update(turn.get("rejected", {}))
            counts.update(turn.get("flags", []))
    return dict(counts.most_common())


def run_report(
    store: RunStore, run_id: str, prices: PriceTable | None = None, *, quality: bool = True
) -> RunReport:
    """The run's funnel, reasons, tokens and complexity; `quality=False` skips the quality
    figures (they load every accepted transcript)."""
    run = store.run(run_id)
    if run is None:
        raise LookupError(f"no run {run_id!r} in {store.path}")
    prices = prices or PriceTable()
    blueprints = store.blueprints(run_id)
    proposed = [b for b in blueprints if b["kind"] == "proposed"]
    recombined = [b for b in blueprints if b["kind"] == "recombined"]
    units = store.unit_status(run_id)
    attempt_units = {k: v for k, v in units.items() if k.startswith("attempt:")}
    final_rounds: dict[int, dict] = {}
    for b in proposed:
        if b["round"] >= final_rounds.get(b["attempt"], {"round": 0})["round"]:
            final_rounds[b["attempt"]] = b
    trajectories = store.run_trajectories(run_id)
    accepted_traj = [t for t in trajectories if t["accepted"]]
    unique = [t for t in accepted_traj if not t["duplicate"]]

    funnel = {
        "attempts": len(attempt_units),
        "attempts_accepted": sum(b["status"] == "accepted" for b in final_rounds.values()),
        "attempts_rejected": sum(
            attempt_units.get(f"attempt:{a}") == "done" and b["status"] != "accepted"
            for a, b in final_rounds.items()
        ),
        "attempts_failed": sum(v == "failed" for v in attempt_units.values()),
        "attempts_unfinished": sum(v == "started" for v in attempt_units.values()),
        "proposed": len(proposed),
        **{f"passed_{s}": _passed(proposed, s) for s in STAGES},
        "accepted_blueprints": sum(b["status"] == "accepted" for b in proposed),
        "recombinations": len(recombined),
        "recombined_accepted": sum(b["status"] == "accepted" for b in recombined),
        "dialogues": len(trajectories),
        "dialogues_accepted": len(accepted_traj),
        "trajectories_unique": len(unique),
    }
    usage = store.usage(run_id)
    by_stage: dict[str, TokenLine] = {}
    by_role: dict[str, TokenLine] = {}
    total = TokenLine()
    for u in usage:
        cost = prices.cost(u["model"], u["prompt_tokens"], u["completion_tokens"])
        line = (u["calls"], u["prompt_tokens"], u["completion_tokens"], cost)
        by_stage.setdefault(u["stage"], TokenLine()).add(*line)
        by_role.setdefault(u["role"], TokenLine()).add(*line)
        total.add(*line)
    return RunReport(
        run_id=run_id,
        domain=run["domain"],
        status=run["status"],
        seed=run["seed"],
        code_version=run["code_version"],
        config=run["config"],
        funnel=funnel,
        blueprint_outcomes=dict(Counter(b["status"] for b in proposed).most_common()),
        top_rejection_reasons=Counter(
            _reason_kind(r) for b in proposed for r in _own_reasons(b)
        ).most_common(8),
        dialogue_outcomes=dict(
            Counter(
                f"{t['ended_by'] or 'unknown'}/{'accepted' if t['accepted'] else 'rejected'}"
                for t in trajectories
            ).most_common()
        ),
        dialogue_failures=dict(
            Counter(
                _reason_kind(t["reason"]) for t in trajectories if not t["accepted"]
            ).most_common()
        ),
        failures_by_side=failures_by_side(trajectories),
        user_fidelity=user_fidelity(trajectories),
        failed_units=sum(v == "failed" for v in units.values()),
        tokens_by_stage=by_stage,
        tokens_by_role=by_role,
        total=total,
        cost_per_trajectory=(total.cost / len(unique))
        if unique and total.cost is not None
        else None,
        quality=run_quality(store, run_id, run["domain"], unique) if quality else None,
        complexity=_complexity(
            final_rounds.values(), [b for b in proposed if b["status"] == "accepted"]
        ),
    )


def _complexity(finals, accepted: list[dict]) -> dict[str, dict[str, int]]:
    def spread(rows, key: str) -> dict[str, int]:
        counts = Counter(r.get(key) for r in rows if r.get(key) is not None)
        return {str(k): counts[k] for k in sorted(counts)}

    return {
        "target_writes": spread(list(finals), "target_writes"),
        "writes": spread(accepted, "writes"),
        "rules_in_play": spread(accepted, "rules_in_play"),
    }


def run_quality(
    store: RunStore, run_id: str, domain_name: str, unique: list[dict] | None = None
) -> QualityReport:
    """Quality figures over the run's tasks and its accepted, unique dialogues."""
    from .environments import get_domain

    try:
        tools = get_domain(domain_name).tools
        names, writes = tools.names, tools.write_names
    except KeyError:  # a domain registered by code this process has not imported
        names, writes = [], []
    if unique is None:
        unique = [t for t in store.run_trajectories(run_id) if t["accepted"] and not t["duplicate"]]
    tasks = [t["data"] for t in store.tasks(run_id)]
    transcripts = [store.transcript(t["id"]) for t in unique]
    return quality_report(tasks, transcripts, names, writes)


def _own_reasons(blueprint: dict) -> list[str]:
    """A round's own reasons (a final rejected row repeats the earlier rounds' too)."""
    own = f"round {blueprint['round']}: "
    return [r for r in blueprint["reasons"] if not r.startswith("round ") or r.startswith(own)]


def _passed(blueprints: list[dict], stage: str) -> int:
    """Proposals that passed `stage` (the store keeps the last stage each one passed)."""
    reached = {s: i for i, s in enumerate(STAGES)}
    return sum(reached.get(b["stage"], -1) >= reached[stage] for b in blueprints)


REASON_WIDTH = 160


def _reason_kind(reason: str) -> str:
    """A reason without its particulars, its cause kept: 'round 2: execution: action 0
    (cancel_pending_order) failed: Error: non-pending order cannot be cancelled' ->
    'execution: cancel_pending_order failed: Error: non-pending order cannot be cancelled'
    (which action, quoted values and ids are what differ between equal reasons)."""
    text = reason.split(": ", 1)[1] if reason.startswith("round ") else reason
    text = text.strip().splitlines()[0].rstrip(":") if text.strip() else ""
    text = re.sub(r"\baction \d+ \((\w+)\)", r"\1", text)
    text = re.sub(r"'[^']{0,200}'", "'…'", text)
    text = re.sub(r"#?\b\w*\d[\w-]*", "N", text)  # ids, numbers
    if len(text) > REASON_WIDTH:
        text = text[: REASON_WIDTH - 1].rstrip() + "…"
    return text or "(no reason)"
