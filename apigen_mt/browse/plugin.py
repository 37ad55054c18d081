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
