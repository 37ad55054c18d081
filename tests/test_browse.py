"""`apigen-mt browse`: the run store's pages (in-process through Datasette's client), then
the same pages in a real browser (Playwright driving Debian's chromium) from the list of
runs to an accepted blueprint and its dialogue, with screenshots kept and the console
free of errors."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from test_evaluate import oracle_models, writing_tasks
from test_export_trainers import SAID, capable_oracle
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.environments import Environment
from apigen_mt.environments.banking.tasks import TASKS as BANKING_TASKS
from apigen_mt.graphs.evaluate import EvalConfig, EvalContext, run_evaluation
from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.report import run_report
from apigen_mt.runs import STORE_FILE, open_eval, open_run
from apigen_mt.store import RunStore

pytest.importorskip("datasette")
ARTIFACTS = Path(os.environ.get("APIGEN_MT_ARTIFACTS") or Path(__file__).parents[1] / "out")
CHROMIUM = os.environ.get("APIGEN_MT_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory, retail_env, cache_dir) -> Path:
    """A store with a scripted retail run (capable agent habits, a second trial that fails)
    and a banking evaluation."""
    out = tmp_path_factory.mktemp("browse")
    store = RunStore(out / STORE_FILE)
    run_id, config, _ = open_run(
        store, PipelineConfig(domain="retail", n=6, best_of_n=1, recombine_rate=0)
    )
    models = capable_oracle().chat_models()
    asyncio.run(
        run_pipeline(
            PipelineContext(
                env=retail_env, store=store, models=models, config=config, run_id=run_id
            )
        )
    )
    bank = Environment.generated("banking", seed=0, cache_dir=cache_dir)
    tasks = writing_tasks(bank, BANKING_TASKS)[:3]
    path = out / "tasks.json"
    path.write_text(json.dumps(tasks))
    eval_config = EvalConfig(domain="banking", tasks_file=str(path), trials=2, concurrency=1)
    eval_id, eval_config, _ = open_eval(store, eval_config)
    asyncio.run(
        run_evaluation(
            EvalContext(
                env=bank,
                store=store,
                models=oracle_models(tasks),
                config=eval_config,
                eval_id=eval_id,
            )
        )
    )
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return out


def _ids(store_dir: Path) -> dict[str, str]:
    store = RunStore.read_only(store_dir / STORE_FILE)
    runs = store.runs()
    run = next(r for r in runs if r["config"].get("kind") != "eval")["id"]
    evaluation = next(r for r in runs if r["config"].get("kind") == "eval")["id"]
    blueprint = store.blueprints(run, status="accepted")[0]["id"]
    trajectory = next(
        t["id"] for t in store.run_trajectories(run) if t["accepted"] and t["task_id"]
    )
    store.close()
    return {"run": run, "eval": evaluation, "blueprint": blueprint, "trajectory": trajectory}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_page_renders_what_it_promises(store_dir):
    from apigen_mt.browse import make_datasette

    ids = _ids(store_dir)
    path = store_dir / STORE_FILE
    before = _digest(path)
    ds = make_datasette(path)

    async def get(url: str) -> str:
        response = await ds.client.get(url)
        expected = 404 if url.endswith("/nope") else 200  # an unknown id is not found
        assert response.status_code == expected, (url, response.text[-2000:])
        return re.sub(r"\s+", " ", response.text)

    async def pages() -> dict[str, str]:
        return {
            "runs": await get("/apigen/runs"),
            "run": await get(f"/apigen/run/{ids['run']}"),
            "blueprint": await get(f"/apigen/blueprint/{ids['blueprint']}"),
            "trajectory": await get(f"/apigen/trajectory/{ids['trajectory']}"),
            "eval": await get(f"/apigen/eval/{ids['eval']}"),
            "facet": await get(
                f"/{path.stem}/blueprints_of_run?run_id={ids['run']}&status=&stage=&tool="
                "cancel_pending_order"
            ),
            "missing": await get("/apigen/run/nope"),
        }

    html = asyncio.run(pages())
    assert ids["run"] in html["runs"] and ids["eval"] in html["runs"]
    report = run_report(RunStore.read_only(path), ids["run"])
    funnel = re.search(r'<table id="funnel">(.*?)</table>', html["run"]).group(1)
    for stage, count in report.funnel.items():
        assert f'{stage.replace("_", " ")}</td><td class="num">{count}</td>' in funnel
    assert "Quality" in html["run"] and "distinct-1" in html["run"]
    assert f"/apigen/blueprint/{ids['blueprint']}" in html["run"]
    assert "Gold actions" in html["blueprint"] and "cancel_pending_order" in html["blueprint"]
    assert 'class="reviews"' in html["blueprint"] and "Round 1" in html["blueprint"]
    assert "status" in html["blueprint"]  # the row diff of the gold actions
    chat = html["trajectory"]
    assert 'class="call tool-call"' in chat and "observation of cancel_pending_order" in chat
    assert SAID in chat and "Accepted" in chat
    assert "pass^k" in html["eval"] and 'id="per-task"' in html["eval"]
    assert "cancel_pending_order" in html["facet"]
    assert "No run nope" in html["missing"]
    assert _digest(path) == before  # served read-only: not one byte written


def test_browse_refuses_a_missing_store_and_warns_off_loopback(tmp_path, monkeypatch):
    result = CliRunner().invoke(app, ["browse", "--out", str(tmp_path), "--no-open"])
    assert result.exit_code == 2 and "no run store" in result.output
    served = {}
    monkeypatch.setattr("apigen_mt.browse.serve", lambda p, h, port: served.update(host=h))
    RunStore(tmp_path / STORE_FILE).close()
    result = CliRunner().invoke(
        app, ["browse", "--out", str(tmp_path), "--no-open", "--host", "0.0.0.0"]
    )
    assert result.exit_code == 0, result.output
    assert "Warning" in result.output and served == {"host": "0.0.0.0"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def served(store_dir):
    """The browse app on a loopback port, in a thread, for the browser."""
    import uvicorn

    from apigen_mt.browse import make_datasette

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(make_datasette(store_dir / STORE_FILE).app(), port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_person_follows_a_run_to_a_dialogue_in_a_real_browser(served, store_dir):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    shots = ARTIFACTS / "browse-screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{served}/apigen/runs")
        page.screenshot(path=str(shots / "1-runs.png"), full_page=True)
        page.locator("a[href^='/apigen/run/']").first.click()
        page.wait_for_selector("#funnel")
        page.screenshot(path=str(shots / "2-run.png"), full_page=True)
        page.locator("a.blueprint-link").first.click()
        page.wait_for_selector("#actions")
        assert page.locator("#actions td", has_text="cancel_pending_order").count() >= 1
        page.screenshot(path=str(shots / "3-blueprint.png"), full_page=True)
        page.locator("a.trajectory-link").first.click()
        page.wait_for_selector("#chat")
        call = page.locator(".tool-call").first
        observation = page.locator(".observation").first
        assert call.is_visible() and "cancel_pending_order" in call.inner_text()
        assert observation.is_visible()
        observation.locator("summary").click()  # a long observation is shown collapsed
        assert '"status": "cancelled"' in observation.locator("details pre").inner_text()
        page.screenshot(path=str(shots / "4-trajectory.png"), full_page=True)
        browser.close()
    assert errors == []
    assert len(list(shots.glob("*.png"))) == 4


def test_the_root_opens_the_runs_page_and_unexecuted_blueprints_say_so(tmp_path):
    from apigen_mt.browse import make_datasette

    store = RunStore(tmp_path / STORE_FILE)
    run_id, _, _ = open_run(store, PipelineConfig(domain="retail", n=1))
    data = {"instruction": "x", "actions": [{"name": "nope", "arguments": {}}], "outputs": []}
    unexecuted = store.save_blueprint(run_id=run_id, attempt=0, round=1, user_id="u", data=data)
    store.update_blueprint(unexecuted, status="format_failed", reasons=["format: unknown tool"])
    executed = store.save_blueprint(run_id=run_id, attempt=1, round=1, user_id="u", data=data)
    store.update_blueprint(executed, status="committee_failed", stage="policy", diff=[])
    store.close()
    ds = make_datasette(tmp_path / STORE_FILE)

    async def pages():
        root = await ds.client.get("/")
        one = await ds.client.get(f"/apigen/blueprint/{unexecuted}")
        two = await ds.client.get(f"/apigen/blueprint/{executed}")
        return root, one.text, two.text

    root, never, ran = asyncio.run(pages())
    assert root.status_code == 302 and root.headers["location"] == "/apigen/runs"
    assert "Not executed" in never and "No change" not in never
    assert "Not executed" not in ran and "No change" in ran


def test_empty_and_rejected_runs_read_cleanly(tmp_path):
    """A run with nothing accepted: no None, no dangling sentences, no header-only tables,
    404 for unknown ids, a round's own reasons, ids in lists as links."""
    from apigen_mt.browse import make_datasette

    store = RunStore(tmp_path / STORE_FILE)
    run_id, _, _ = open_run(store, PipelineConfig(domain="retail", n=1))
    data = {"instruction": "x", "actions": [], "outputs": []}
    first = store.save_blueprint(run_id=run_id, attempt=0, round=1, user_id="u", data=data)
    store.update_blueprint(first, status="format_failed", reasons=["format: no actions"])
    last = store.save_blueprint(run_id=run_id, attempt=0, round=2, user_id="u", data=data)
    every = ["round 1: format: no actions", "round 2: format: still no actions"]
    store.update_blueprint(last, status="rejected", reasons=every)
    store.close()
    ds = make_datasette(tmp_path / STORE_FILE)

    async def pages():
        got = {}
        for name, url in {
            "run": f"/apigen/run/{run_id}",
            "blueprint": f"/apigen/blueprint/{last}",
            "list": f"/runs/blueprints_of_run?run_id={run_id}&status=&stage=&tool=",
            "no-run": "/apigen/run/nope",
            "no-blueprint": "/apigen/blueprint/nope",
            "no-dialogue": "/apigen/trajectory/nope",
            "no-eval": "/apigen/eval/nope",
        }.items():
            response = await ds.client.get(url)
            got[name] = (response.status_code, re.sub(r"\s+", " ", response.text))
        return got

    got = asyncio.run(pages())
    status, run = got["run"]
    assert status == 200 and "None" not in run and "Gold calls per tool: ." not in run
    assert "No blueprint accepted yet." in run and "No dialogues yet" in run
    assert '<table id="trajectories">' not in run
    _, blueprint = got["blueprint"]
    assert blueprint.count("still no actions") == 1 and "(last stage passed: propose)" in blueprint
    assert "round 1: format" not in blueprint  # round 2 shows its own reason only
    assert f'<a href="/apigen/blueprint/{first}">{first}</a>' in got["list"][1]
    assert {got[k][0] for k in ("no-run", "no-blueprint", "no-dialogue", "no-eval")} == {404}
