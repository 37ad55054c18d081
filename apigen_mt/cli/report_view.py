"""Rendering a run report for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

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
