"""`apigen-mt demo`: the whole pipeline in under a minute, every role scripted.

The one product command that runs the test doubles' scripted oracle (import-linter's
contract lets exactly this import through): a newcomer sees a run with accepted blueprints,
dialogues and an export before any model is set up. Everything it makes says it is
scripted: its output, its run settings (`scripted: true`) and browse's run page.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from apigen_mt.export import export_run
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.report import run_report
from apigen_mt.runs import environment_for, open_run, store_at
from apigen_mt.testing.scripted_roles import OracleRoles

from .report_view import print_report
from .running import StageBars, console_for, run_to_end

SCRIPTED = (
    "Scripted demo: every role (proposer, reviewers, simulated user, agent) is played by "
    "apigen-mt's scripted oracle; no model is called. The numbers show the pipeline at work, "
    "not the quality of any model."
)


def demo(
    out: Annotated[Path, typer.Option(help="Where the demo's run store goes.")] = Path(
        "apigen-demo"
    ),
    n: Annotated[int, typer.Option("--n", help="Blueprint attempts.", min=1, max=200)] = 8,
    seed: Annotated[int, typer.Option(help="Seeds the sampled contexts.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line.")] = False,
) -> None:
    """Run the whole pipeline on retail with scripted roles (no model), export it, and
    print the command that browses it."""
    console = console_for(as_json)
    console.print(SCRIPTED)
    started = time.perf_counter()
    store = store_at(out)
    config = PipelineConfig(
        domain="retail", n=n, seed=seed, best_of_n=1, trials=2, concurrency=8, scripted=True
    )
    run_id, config, _ = open_run(store, config, auto=False)
    with StageBars(console) as progress:
        ctx = PipelineContext(
            env=environment_for(config),
            store=store,
            models=OracleRoles().chat_models(),
            config=config,
            run_id=run_id,
            progress=progress,
        )
        hint = f"apigen-mt demo --out {out}"
        run_to_end(
            lambda: run_pipeline(ctx), console, hint, lambda: store.set_run_status(run_id, "x")
        )
    report = run_report(store, run_id)
    print_report(report, console)
    exported = export_run(store, run_id, "openai", out / "exports")
    seconds = time.perf_counter() - started
    console.print(f"{exported['rows']} trajectories -> {exported['path']}")
    console.print(f"Scripted demo run {run_id} done in {seconds:.0f} s. Look at it:")
    console.print(f"  apigen-mt browse --out {out}", markup=False)
    console.print("For real data, point the roles at a model:", markup=False)
    console.print(
        "  APIGEN_MT_BASE_URL=https://api.openai.com/v1 APIGEN_MT_API_KEY=sk-... "
        "APIGEN_MT_MODEL=gpt-4o-mini apigen-mt generate --domain retail --n 20",
        markup=False,
    )
    if as_json:
        print(json.dumps({"run_id": run_id, "store": store.path, "funnel": report.funnel,
                          "export": exported["path"], "scripted": True}))  # fmt: skip
