"""The Datasette plugin behind `apigen-mt browse`: Jinja filters for the store's JSON
columns and the run-level figures (funnel, quality, pass^k) computed by our own report
code over a read-only connection, so the browser and `apigen-mt report` never disagree."""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl

from apigen_mt.eval_report import eval_report
from apigen_mt.report import run_report
from apigen_mt.store import RunStore

LONG = 600  # observations longer than this are shown collapsed


def _fromjson(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        parsed = _fromjson(value)
        if not isinstance(parsed, dict | list):
            return value
        value = parsed
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _round_reasons(reasons: Any, number: int) -> list[str]:
    """A round's own reasons: a rejected blueprint's last round keeps every round's, each
    as "round N: ...", which would repeat the earlier rounds' under it."""
    every = [r for r in reasons or [] if isinstance(r, str)]
    prefix = f"round {number}: "
    if not any(r.startswith("round ") and ": " in r for r in every):
        return every
    return [r.removeprefix(prefix) for r in every if r.startswith(prefix)]


def _page_of(row: Any, table: str | None) -> str | None:
    """Which of our pages a row's `id` leads to: by its table, or (canned queries, which
    Datasette 0.64 does not name to this hook) by the columns only such rows have."""
    if table in ("blueprints", "trajectories"):
        return table.removesuffix("s").replace("trajectorie", "trajectory")
    keys = set(row.keys()) if hasattr(row, "keys") else set()
    if {"round", "kind", "status"} <= keys:
        return "blueprint"
    if {"ended_by", "steps"} <= keys:
        return "trajectory"
    return None


@hookimpl
def render_cell(row, value, column, table):
    """Blueprint and dialogue ids in Datasette's lists link to their pages."""
    from markupsafe import Markup, escape

    if not isinstance(value, str):
        return None
    page = "blueprint" if column == "blueprint_id" else _page_of(row, table)
    if page is None or column not in ("id", "blueprint_id"):
        return None
    return Markup(f'<a href="/apigen/{page}/{escape(value)}">{escape(value)}</a>')


@hookimpl
def register_routes():
    """The root URL opens the runs page (Datasette's list of databases is one click on)."""

    async def runs_page():
        from datasette.utils.asgi import Response

        return Response.redirect("/apigen/runs")

    return [(r"^/$", runs_page)]


@hookimpl
def prepare_jinja2_environment(env) -> None:
    env.filters["fromjson"] = _fromjson
    env.filters["pretty"] = _pretty
    env.filters["round_reasons"] = _round_reasons
    env.globals["LONG"] = LONG


@hookimpl
def extra_template_vars(datasette) -> dict[str, Any]:
    db_name, database = next((n, d) for n, d in datasette.databases.items() if d.path)

    def store() -> RunStore:
        return RunStore.read_only(database.path)

    async def sql(query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a read-only query on the store, for the pages' templates."""
        result = await database.execute(query, params or {})
        return [dict(row) for row in result.rows]

    def report_of(make: Any, record_id: str) -> dict[str, Any] | None:
        """A report (run or evaluation) as JSON-ready data, None for an unknown id."""
        s = store()
        try:
            return make(s, record_id).model_dump(mode="json")
        except LookupError:
            return None
        finally:
            s.close()

    def summary(run_id: str) -> dict[str, Any] | None:
        return report_of(run_report, run_id)

    def evaluation(eval_id: str) -> dict[str, Any] | None:
        return report_of(eval_report, eval_id)

    return {"sql": sql, "run_summary": summary, "evaluation": evaluation, "db": db_name}
