"""Traces in a real tracing UI: a pipeline and an evaluation, run by the CLI with
$APIGEN_MT_OTLP_ENDPOINT pointed at a locally started Arize Phoenix (`phoenix serve`,
offline, loopback), read back through Phoenix's own REST API: one trace per command, the
pipeline holding its blueprint graphs (committee branches included) and dialogue graphs,
LLM spans carrying model names and token counts."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from loopback import oracle_endpoint
from servers import free_port, served
from typer.testing import CliRunner

from apigen_mt.cli import app

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]
httpx = pytest.importorskip("httpx")
PROJECT = "apigen-mt-test"


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    pytest.importorskip("phoenix", reason="arize-phoenix is in the dev extra")
    pytest.importorskip("openinference.instrumentation.langchain")
    command = shutil.which("phoenix", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("no `phoenix` command beside this Python")
    work = tmp_path_factory.mktemp("phoenix")
    port, grpc = free_port(), free_port()
    env = {**os.environ, "PHOENIX_WORKING_DIR": str(work), "PHOENIX_PORT": str(port),
           "PHOENIX_GRPC_PORT": str(grpc), "PHOENIX_HOST": "127.0.0.1",
           "PHOENIX_TELEMETRY_ENABLED": "false"}  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with served([command, "serve"], f"{url}/healthz", work / "phoenix.log", env=env):
        yield url


def _all_spans(url: str) -> list[dict]:
    spans, cursor = [], None
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        response = httpx.get(f"{url}/v1/projects/{PROJECT}/spans", params=params, timeout=30)
        if response.status_code == 404:  # the project appears with its first span
            return []
        page = response.json()
        spans += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return spans


def _spans(url: str, roots: int) -> list[dict]:
    """Every span, once Phoenix has ingested them (it writes asynchronously): the count
    holds still for two polls and the expected root spans are there."""
    deadline, last = time.monotonic() + 60, -1
    while True:
        spans = _all_spans(url)
        settled = len(spans) == last and sum(not s.get("parent_id") for s in spans) >= roots
        if settled or time.monotonic() > deadline:
            return spans
        last = len(spans)
        time.sleep(1.0)


def test_a_pipeline_and_an_eval_trace_into_phoenix(phoenix, monkeypatch, cache_dir, tmp_path):
    monkeypatch.setenv("APIGEN_MT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("APIGEN_MT_OTLP_ENDPOINT", f"{phoenix}/v1/traces")
    monkeypatch.setenv("APIGEN_MT_OTLP_PROJECT", PROJECT)
    with oracle_endpoint(monkeypatch):
        common = ["--trials", "1", "--out", str(tmp_path), "--json"]
        made = CliRunner().invoke(
            app, ["generate", "--domain", "retail", "--n", "8", "--best-of-n", "1", *common]
        )
        assert made.exit_code == 0, made.output
        run_id = json.loads(made.stdout.strip().splitlines()[-1])["run_id"]
        scored = CliRunner().invoke(app, ["eval", "--domain", "retail", "--run", run_id, *common])
        assert scored.exit_code == 0, scored.output
    spans = _spans(phoenix, roots=2)
    by_id = {s["context"]["span_id"]: s for s in spans}
    roots = [s for s in spans if not s.get("parent_id")]
    assert sorted(r["name"] for r in roots) == ["evaluate", "pipeline"]  # one trace a command
    pipeline = next(r for r in roots if r["name"] == "pipeline")
    in_pipeline = [s for s in spans if s["context"]["trace_id"] == pipeline["context"]["trace_id"]]
    names = Counter(s["name"] for s in in_pipeline)
    assert names["blueprint"] >= 8 and names["dialogue"] >= 1

    # each blueprint graph holds its committee: the reviewer branches sit under it
    def ancestors(span):
        while span.get("parent_id") in by_id:
            span = by_id[span["parent_id"]]
            yield span

    under = Counter(
        next((a["context"]["span_id"] for a in ancestors(s) if a["name"] == "blueprint"), None)
        for s in in_pipeline
        if s["name"] == "reviewer"
    )
    assert None not in under and max(under.values()) >= 3  # a committee of three, one graph
    dialogue = next(s for s in in_pipeline if s["name"] == "dialogue")
    assert pipeline in list(ancestors(dialogue))
    llm = [s for s in spans if s.get("span_kind") == "LLM"]
    assert llm and all(s["attributes"].get("llm.model_name") == "fake-model" for s in llm)
    assert all(s["attributes"].get("llm.token_count.total", 0) > 0 for s in llm)
