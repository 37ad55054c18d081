"""Every graph in langgraph.json loads in the LangGraph API server (`langgraph dev`, in
memory, loopback) and runs from it as Studio and the SDK run graphs: a run's `context` is
plain JSON with the CLI's option names, against the scripted loopback endpoint."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from servers import free_port, served
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.testing import FakeOpenAIServer, OracleRoles

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]
REPO = Path(__file__).resolve().parents[1]
httpx = pytest.importorskip("httpx")


def _langgraph() -> str:
    pytest.importorskip("langgraph_api", reason="langgraph-cli[inmem] is in the dev extra")
    found = shutil.which("langgraph", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("no `langgraph` command beside this Python")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir):
    """The in-memory server on the checkout, and the scripted endpoint its runs call."""
    command = _langgraph()
    oracle = OracleRoles()
    port = free_port()
    log = tmp_path_factory.mktemp("langgraph") / "server.log"
    url = f"http://127.0.0.1:{port}"
    with FakeOpenAIServer(responder=oracle.fake_server_responder()) as endpoint:
        env = {**os.environ, "APIGEN_MT_API_KEY": "test", "APIGEN_MT_CACHE_DIR": str(cache_dir)}
        env.pop("LANGSMITH_TRACING", None)
        config = ["--config", str(REPO / "langgraph.json")]  # its state files go to cwd
        command = [command, "dev", "--no-browser", "--no-reload", "--port", str(port), *config]
        with served(command, f"{url}/ok", log, cwd=log.parent, env=env):
            yield url, endpoint.base_url, log


def _run(url: str, graph: str, context: dict, log: Path) -> dict:
    response = httpx.post(
        f"{url}/runs/wait",
        json={"assistant_id": graph, "input": {}, "context": context},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert "__error__" not in result, (result, log.read_text()[-3000:])
    return result


def test_every_graph_runs_from_the_server(server, tmp_path):
    url, base_url, log = server
    listed = httpx.post(f"{url}/assistants/search", json={}, timeout=10).json()
    assert {a["graph_id"] for a in listed} == {
        "blueprint", "recombine", "dialogue", "pipeline", "evaluate"
    }  # fmt: skip
    models = {"base_url": base_url, "model": "fake-model", "best_of_n": 1}
    out = str(tmp_path)
    made = _run(url, "pipeline", {"domain": "retail", "n": 6, "trials": 1, "out": out,
                                  **models}, log)  # fmt: skip
    run_id = made["run_id"]
    assert made["status"] == "finished" and made["funnel"]["accepted_blueprints"] >= 2
    report = CliRunner().invoke(app, ["report", run_id, "--out", out, "--json"])
    assert json.loads(report.stdout)["funnel"] == made["funnel"]

    attempt = _run(url, "blueprint", {"out": out, "run": run_id, "attempt": 6, **models}, log)
    assert attempt["run_id"] == run_id and attempt["status"] in ("accepted", "rejected")
    said = _run(url, "dialogue", {"out": out, "run": run_id, **models}, log)
    assert said["accepted"] is True
    merged = _run(url, "recombine", {"out": out, "run": run_id, **models}, log)
    assert merged["status"] in ("accepted", "rejected", "skipped")
    scored = _run(url, "evaluate", {"domain": "retail", "out": out, "run": run_id,
                                    "trials": 1, **models}, log)  # fmt: skip
    assert scored["pass_hat_k"] == [1.0]
