"""`apigen-mt runs`, `report` and `export`: look at finished (or running) runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from apigen_mt.export import ARGUMENTS, FORMATS, PassRateRange, export_run
from apigen_mt.pricing import PriceTable
from apigen_mt.quality import plot_quality
from apigen_mt.report import run_report
from apigen_mt.runs import store_at

from .generate import DEFAULT_OUT
from .report_view import print_report
from .running import console_for

app = typer.Typer(help="List and inspect runs.", no_args_is_help=True)
console = console_for()
Out = Annotated[Path, typer.Option(help="The output folder given to generate.")]


def _store(out: Path):
    if not (out / "runs.sqlite").exists():
        raise typer.BadParameter(no_store_message(out), param_hint="--out")
    return store_at(out)


def no_store_message(out: Path) -> str:
    """Where the runs are, when they are not in `out`: the stores under this folder."""
    found = sorted(
        str(p.parent) for p in Path().glob("*/runs.sqlite") if p.parent.resolve() != out.resolve()
    )
    where = (
        f"run stores here: {', '.join(found)}"
        if found
        else f"`generate` writes to --out (default {DEFAULT_OUT})"
    )
    return f"no run store in {out} ({out / 'runs.sqlite'} does not exist); {where}"


def _run(store, run_id: str) -> dict:
    row = store.run(run_id)
    if row is None:
        known = ", ".join(r["id"] for r in store.runs()[-5:]) or "none"
        raise typer.BadParameter(f"no run {run_id!r} (recent: {known})", param_hint="RUN")
    return row


@app.command("list")
def list_runs(out: Out = DEFAULT_OUT, as_json: Annotated[bool, typer.Option("--json")] = False):
    """Every run in the store, oldest first."""
    store = _store(out)
    rows = []
    for r in store.runs():
        funnel = run_report(store, r["id"]).funnel
        rows.append(
            {
                "run_id": r["id"],
                "domain": r["domain"],
                "status": r["status"],
                "n": r["config"].get("n"),
                "seed": r["seed"],
                "accepted_blueprints": funnel["accepted_blueprints"],
                "trajectories": funnel["trajectories_unique"],
            }
        )
    if as_json:
        print(json.dumps(rows))
        return
    table = Table()
    for col in ("run_id", "domain", "status", "n", "seed", "accepted_blueprints", "trajectories"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


@app.command("show")
def show_run(run_id: Annotated[str, typer.Argument(metavar="RUN")], out: Out = DEFAULT_OUT):
    """A run's settings, code version, unit states and failed units with their reasons."""
    store = _store(out)
    row = _run(store, run_id)
    units = store.unit_status(run_id)
    console.print(f"[bold]{run_id}[/]  {row['domain']}  {row['status']}  {row['code_version']}")
    console.print_json(json.dumps(row["config"]))
    states: dict[str, int] = {}
    for key, status in units.items():
        kind = key.split(":", 1)[0]
        states[f"{kind} {status}"] = states.get(f"{kind} {status}", 0) + 1
    for label, count in sorted(states.items()):
        console.print(f"  {count:>5}  {label}")
    for unit in store.failed_units(run_id)[:20]:
        console.print(f"[red]{unit['key']}[/]: {unit['reason'].splitlines()[0]}")


def report(
    run_id: Annotated[str, typer.Argument(metavar="RUN")],
    out: Out = DEFAULT_OUT,
    prices: Annotated[Path | None, typer.Option(help="Price table JSON.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    plot: Annotated[
        Path | None,
        typer.Option(help="Write the quality histograms as PNGs into this folder."),
    ] = None,
) -> None:
    """The run's funnel (counts per stage, rejection reasons, tokens and cost) and the
    quality of its data (tool coverage, lengths, personas, duplicates, distinct-n)."""
    store = _store(out)
    _run(store, run_id)
    try:
        result = run_report(store, run_id, PriceTable.load(prices))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--prices") from None
    written = []
    if plot is not None and result.quality is not None:
        try:
            written = plot_quality(result.quality, plot)
        except RuntimeError as exc:
            raise typer.BadParameter(str(exc), param_hint="--plot") from None
    if as_json:
        print(result.model_dump_json())
    else:
        print_report(result, console)
        for path in written:
            console.print(f"plot -> {path}")


def export(
    run_id: Annotated[str, typer.Argument(metavar="RUN")],
    fmt: Annotated[str, typer.Option("--format", help=" | ".join(FORMATS))] = "sharegpt",
    out: Out = DEFAULT_OUT,
    dest: Annotated[Path | None, typer.Option(help="Where to write (default OUT/exports).")] = None,
    pairs: Annotated[
        bool, typer.Option("--pairs", help="Also write accepted/rejected preference pairs.")
    ] = False,
    arguments: Annotated[
        str,
        typer.Option(
            help="OpenAI rows: tool-call arguments as a JSON object (what Hugging Face chat "
            "templates expect) or a JSON string (OpenAI's fine-tuning API)."
        ),
    ] = "object",
    dedup_threshold: Annotated[
        float | None,
        typer.Option(
            help="Leave out trajectories whose instruction near-duplicates one already "
            "exported (MinHash Jaccard of word 3-shingles >= T, in (0, 1])."
        ),
    ] = None,
    include_unfinished: Annotated[
        bool,
        typer.Option(
            "--include-unfinished",
            help="Also export accepted dialogues cut off by the step limit or a failing role.",
        ),
    ] = False,
    min_pass_rate: Annotated[
        float | None,
        typer.Option(
            help="Keep only tasks an evaluation passed at least this often (0..1; `eval "
            "--run RUN` measures it; unmeasured tasks are left out)."
        ),
    ] = None,
    max_pass_rate: Annotated[
        float | None,
        typer.Option(help="Keep only tasks an evaluation passed at most this often (0..1)."),
    ] = None,
) -> None:
    """Write the run's accepted, unique, finished trajectories in a training format; each
    row carries its task's `pass_rate` (and `pass_rate_model`) where an evaluation measured
    it."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if arguments not in ARGUMENTS:
        raise typer.BadParameter("choose object or string", param_hint="--arguments")
    try:
        bounded = min_pass_rate is not None or max_pass_rate is not None
        high = 1.0 if max_pass_rate is None else max_pass_rate
        rates = PassRateRange(min_pass_rate or 0.0, high) if bounded else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--min-pass-rate/--max-pass-rate") from None
    store = _store(out)
    _run(store, run_id)
    try:
        result = export_run(
            store,
            run_id,
            fmt,  # type: ignore[arg-type]
            dest or out / "exports",
            pairs=pairs,
            arguments=arguments,  # type: ignore[arg-type]
            dedup_threshold=dedup_threshold,
            include_unfinished=include_unfinished,
            pass_rates=rates,
        )
    except ValueError as exc:
        hint = "--format" if "tau2-tasks" in str(exc) else "--dedup-threshold"
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    except RuntimeError as exc:
        hint = "--dedup-threshold" if "datasketch" in str(exc) else "--format"
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    if result["rows"] == 0:
        _nothing_to_export(store, run_id, result)
    what = "tasks" if fmt == "tau2-tasks" else "trajectories"
    console.print(f"{result['rows']} {what} -> {result['path']}")
    if dedup_threshold is not None:
        console.print(f"{result['near_duplicates_left_out']} left out as near duplicates")
    if result["unfinished_left_out"]:
        console.print(
            f"{result['unfinished_left_out']} left out as unfinished (--include-unfinished)"
        )
    if rates is not None:
        console.print(
            f"{result['pass_rate_left_out']} left out by pass rate, "
            f"{result['no_pass_rate_left_out']} with no measured pass rate"
        )
    if pairs:
        console.print(f"{result['pairs']} preference pairs -> {result['pairs_path']}")


def _nothing_to_export(store, run_id: str, result: dict) -> None:
    """An export of no rows is almost always a mistake downstream (a trainer fed an empty
    file fails far from the cause): write nothing, say why, exit with status 1."""
    import shutil

    written = Path(result["path"])
    if written.is_dir():
        shutil.rmtree(written, ignore_errors=True)
    else:
        written.unlink(missing_ok=True)
    funnel = run_report(store, run_id).funnel
    why = (
        f"{funnel.get('accepted_blueprints', 0)} accepted blueprints, "
        f"{funnel.get('dialogues', 0)} dialogues, {funnel.get('dialogues_accepted', 0)} accepted"
    )
    left_out = result.get("unfinished_left_out", 0) + result.get("near_duplicates_left_out", 0)
    extra = f"; {left_out} left out by the filters" if left_out else ""
    typer.echo(
        f"nothing to export: run {run_id} has no accepted trajectories ({why}{extra}); "
        f"see `apigen-mt report {run_id}`. Nothing was written.",
        err=True,
    )
    raise typer.Exit(1)
