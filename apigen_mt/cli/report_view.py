"""Rendering a run report for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from apigen_mt.quality import QualityReport
from apigen_mt.report import RunReport

FUNNEL_LABELS = {
    "attempts": "blueprint attempts (context samples)",
    "attempts_accepted": "  ending in an accepted blueprint",
    "proposed": "proposals (every round)",
    "passed_propose": "  parsed",
    "passed_format": "  passed format",
    "passed_execution": "  passed execution",
    "passed_policy": "  passed policy",
    "passed_committee": "  passed committee",
    "accepted_blueprints": "accepted blueprints",
    "recombinations": "recombinations",
    "recombined_accepted": "  accepted",
    "dialogues": "dialogues attempted",
    "dialogues_accepted": "  accepted (verified state and outputs)",
    "trajectories_unique": "  unique accepted trajectories",
}


def _money(x: float | None) -> str:
    return "unpriced" if x is None else f"${x:.4f}"


def print_report(report: RunReport, console: Console) -> None:
    funnel = Table(title=f"Run {report.run_id} ({report.domain}, {report.status})")
    funnel.add_column("stage")
    funnel.add_column("count", justify="right")
    for key, label in FUNNEL_LABELS.items():
        funnel.add_row(label, str(report.funnel.get(key, 0)))
    console.print(funnel)
    if report.top_rejection_reasons:
        console.print("Top blueprint rejection reasons:")
        for reason, count in report.top_rejection_reasons:
            console.print(f"  {count:>5}  {reason}")
    if report.dialogue_failures:
        console.print("Dialogue failures:")
        for reason, count in report.dialogue_failures.items():
            console.print(f"  {count:>5}  {reason}")
    if report.failures_by_side:
        sides = ", ".join(f"{k} {v}" for k, v in report.failures_by_side.items())
        console.print(f"Rejected dialogues by side: {sides}")
    if report.user_fidelity:
        checks = ", ".join(f"{k} {v}" for k, v in report.user_fidelity.items())
        console.print(f"User fidelity checks: {checks}")
    if report.failed_units:
        console.print(f"[red]{report.failed_units} units failed[/] (apigen-mt runs show)")
    tokens = Table(title="Tokens and cost by stage")
    for col in ("stage", "calls", "prompt", "completion", "cost"):
        tokens.add_column(col, justify="left" if col == "stage" else "right")
    for stage, line in [*report.tokens_by_stage.items(), ("total", report.total)]:
        tokens.add_row(
            stage,
            str(line.calls),
            str(line.prompt_tokens),
            str(line.completion_tokens),
            _money(line.cost),
        )
    console.print(tokens)
    if report.funnel.get("trajectories_unique"):
        per = _money(report.cost_per_trajectory)
    else:
        per = "n/a (no accepted trajectory)"
    console.print(f"Cost per unique accepted trajectory: {per}")
    if any(report.complexity.values()):
        labels = {
            "target_writes": "writes aimed at (every attempt)",
            "writes": "writes (accepted)",
            "rules_in_play": "rules in play (accepted)",
        }
        console.print("Complexity:")
        for key, spread in report.complexity.items():
            shown = ", ".join(f"{v}: {n}" for v, n in spread.items()) or "none"
            console.print(f"  {labels.get(key, key)}: {shown}")
    if report.quality is not None:
        print_quality(report.quality, console)


def print_quality(q: QualityReport, console: Console) -> None:
    console.print(f"[bold]Quality[/] ({q.tasks} tasks, {q.dialogues} accepted unique dialogues)")
    if q.tool_calls:
        used = ", ".join(f"{name} {n}" for name, n in q.tool_calls.items())
        console.print(f"  gold calls per tool: {used}")
    if q.tools_unused:
        console.print(f"  tools never used: {', '.join(q.tools_unused)}")
    table = Table()
    for col in ("per item", "n", "mean", "min", "max", "paper (APIGen-MT-5k)"):
        table.add_column(col, justify="left" if col == "per item" else "right")
    rows = [
        ("writes per task", q.writes_per_task, ""),
        ("user turns per dialogue", q.user_turns, f"≈{q.paper['user_turns_mean']:g}"),
        ("tool calls per dialogue", q.agent_tool_calls, f"≈{q.paper['tool_calls_mean']:g}"),
        (
            "turns per dialogue",
            q.turns,
            f"{q.paper['turns_min']:g}–{q.paper['turns_max']:g}",
        ),
    ]
    for label, d, paper in rows:
        table.add_row(label, str(d.count), *(_num(v) for v in (d.mean, d.min, d.max)), paper)
    console.print(table)
    spread = ", ".join(f"{who} {n}" for who, n in list(q.personas.items())[:6])
    console.print(f"  personas: {len(q.personas)} kinds; most common: {spread or 'none'}")
    console.print(f"  exact duplicate tasks (same user and action multiset): {q.exact_duplicates}")
    near = q.near_duplicates
    if near.available:
        console.print(
            f"  near-duplicate instructions (MinHash Jaccard of word 3-shingles ≥ "
            f"{near.threshold}): {near.count}"
        )
    else:
        console.print("  near-duplicate instructions: needs the quality extra (datasketch)")
    console.print(
        "  distinct-n of instructions: "
        + ", ".join(f"{k.split('_')[1]}: {v:.3f}" for k, v in q.distinct.items())
    )


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"
