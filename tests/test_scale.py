"""One run across worker processes and on Ray: the same funnel as one process, resume
after SIGKILL of a worker or of the driver with nothing lost or duplicated, one shared
and adaptive call budget. All against the loopback oracle endpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from loopback import FaultyResponder

from apigen_mt.graphs.pipeline_config import PipelineConfig
from apigen_mt.report import run_report
from apigen_mt.runs import open_run, store_at
from apigen_mt.scale import ShardedRun, run_sharded
from apigen_mt.scale.driver import LocalWorkers
from apigen_mt.scale.merge import merge_shards
from apigen_mt.scale.spec import split_concurrency
from apigen_mt.scale.worker import done_copy
from apigen_mt.settings import load_settings
from apigen_mt.store import RunStore
from apigen_mt.testing.fake_openai import FakeOpenAIServer
from apigen_mt.testing.scripted_roles import OracleRoles

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

N = 16


@pytest.fixture
def endpoint(monkeypatch, cache_dir):
    with FakeOpenAIServer(responder=FaultyResponder(OracleRoles()), latency=0.02) as server:
        for key, value in {
            "APIGEN_MT_BASE_URL": server.base_url,
            "APIGEN_MT_API_KEY": "test",
            "APIGEN_MT_MODEL": "fake-model",
            "APIGEN_MT_CACHE_DIR": str(cache_dir),  # workers find the built database
        }.items():
            monkeypatch.setenv(key, value)
        yield server


def _config(**kw) -> PipelineConfig:
    return PipelineConfig(domain="retail", n=N, concurrency=8, best_of_n=1, trials=2, **kw)


def _sharded(tmp_path: Path, backend, shards: int = 2, **kw) -> tuple[ShardedRun, RunStore]:
    store = store_at(tmp_path)
    config = _config(shards=shards, **kw)
    run_id, config, _ = open_run(store, config)
    return ShardedRun(store, run_id, config, load_settings(), backend), store


def _one_process(tmp_path: Path) -> tuple[RunStore, str]:
    import asyncio

    from apigen_mt.graphs.pipeline import PipelineContext, run_pipeline
    from apigen_mt.models import pipeline_models
    from apigen_mt.runs import environment_for

    store = store_at(tmp_path)
    config = _config()
    run_id, config, _ = open_run(store, config)
    ctx = PipelineContext(
        env=environment_for(config),
        store=store,
        models=pipeline_models(load_settings(), config.committee_size),
        config=config,
        run_id=run_id,
    )
    asyncio.run(run_pipeline(ctx))
    return store, run_id


def _proposals(store: RunStore, run_id: str) -> set[tuple]:
    return {
        (b["attempt"], b["round"], b["user_id"], b["status"])
        for b in store.blueprints(run_id)
        if b["kind"] == "proposed"
    }


def _no_duplicates(store: RunStore, run_id: str) -> None:
    rows = store.blueprints(run_id)
    assert len({(b["attempt"], b["round"]) for b in rows}) == len(rows)
    trajectories = store.run_trajectories(run_id)
    assert len({(t["task_id"], t["attempt"]) for t in trajectories}) == len(trajectories)
    assert len({t["id"] for t in store.tasks(run_id)}) == len(store.tasks(run_id))


def test_two_local_workers_give_the_one_process_run(endpoint, tmp_path):
    single, single_id = _one_process(tmp_path / "one")
    run, store = _sharded(tmp_path / "two", LocalWorkers(2))
    stages: dict[str, object] = {}
    lines: list[str] = []
    run.progress = lambda stage, count: stages.__setitem__(stage, count)
    run.status = lines.append
    summary = run_sharded(run)
    report = run_report(store, run.run_id)
    # The progress display sums every worker's units and names each worker.
    assert stages["blueprints"].total == N
    assert stages["blueprints"].done + stages["blueprints"].skipped == N
    assert any("#0" in line and "#1" in line and "limit 8" in line for line in lines)
    assert report.status == "finished" and report.adds_up()
    assert report.funnel["attempts"] == N and summary["calls"] > 0
    # Attempts are split by user, contexts are seeded per attempt: the same proposals.
    assert _proposals(store, run.run_id) == _proposals(single, single_id)
    assert (
        report.funnel["accepted_blueprints"]
        == run_report(single, single_id).funnel["accepted_blueprints"]
    )
    # Both shards did work, and every attempt ran in exactly one of them.
    per_shard = [
        {k for k, v in RunStore(done_copy(run.work_path(k))).unit_status(run.run_id).items()}
        for k in range(2)
    ]
    attempts = [{k for k in keys if k.startswith("attempt:")} for keys in per_shard]
    assert attempts[0] and attempts[1] and not attempts[0] & attempts[1]
    assert len(attempts[0] | attempts[1]) == N
    # A user's blueprints meet in one shard, so recombination found parents.
    assert report.funnel["recombinations"] >= 1
    recombined = [b for b in store.blueprints(run.run_id) if b["kind"] == "recombined"]
    assert recombined and all(len(b["parents"]) >= 2 for b in recombined)
    # Usage adds up across the shards.
    assert sum(u["calls"] for u in store.usage(run.run_id)) == summary["calls"]
    _no_duplicates(store, run.run_id)
    # Merging again changes nothing.
    before = {t["id"] for t in store.run_trajectories(run.run_id)}
    run.merge()
    assert {t["id"] for t in store.run_trajectories(run.run_id)} == before
    assert run_report(store, run.run_id).funnel == report.funnel


class KillOnce(LocalWorkers):
    """Local workers, one of which is SIGKILLed once it has finished a few units."""

    def __init__(self, workers: int):
        super().__init__(workers)
        self.killed: list[int] = []

    def run(self, specs, on_event):
        def watch(event: dict) -> None:
            on_event(event)
            count = event["count"]
            if not self.killed and event["stage"] == "blueprints" and count["done"] >= 3:
                self.killed.append(event["pid"])
                os.kill(event["pid"], signal.SIGKILL)

        return super().run(specs, watch)


def test_a_killed_local_worker_is_started_again_and_nothing_is_lost_or_duplicated(
    endpoint, tmp_path
):
    backend = KillOnce(2)
    run, store = _sharded(tmp_path, backend)
    run_sharded(run)
    assert backend.killed and len(backend.started) == 3  # one shard ran twice
    assert any(p.returncode == -signal.SIGKILL for p in backend.started)
    report = run_report(store, run.run_id)
    assert report.status == "finished" and report.adds_up() and report.funnel["attempts"] == N
    _no_duplicates(store, run.run_id)
    assert set(store.unit_status(run.run_id).values()) == {"done"}


def _cli(*args: str) -> subprocess.Popen:
    code = "import sys; from apigen_mt.cli import app; sys.exit(app())"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _done_units(path: Path) -> int:
    try:
        store = RunStore.read_only(path)
        return store.db.execute("SELECT count(*) FROM units WHERE status = 'done'").fetchone()[0]
    except Exception:  # not created yet
        return 0


def test_sigkill_of_the_driver_then_the_same_command_resumes(endpoint, tmp_path):
    args = ["generate", "--domain", "retail", "--n", str(N), "--out", str(tmp_path)]
    args += ["--concurrency", "8", "--best-of-n", "1", "--trials", "2", "--workers", "2"]
    first = _cli(*args, "--json")
    shard = tmp_path / "shards"
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once a shard store holds finished units
        works = list(shard.glob("*/shard-*.work.sqlite"))
        if works and any(_done_units(w) for w in works):
            break
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    time.sleep(1.0)  # its workers notice their driver is gone and exit
    store = store_at(tmp_path)
    [run] = store.runs()
    assert run["status"] == "running"

    second = _cli(*args, "--json")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "Resuming" in err
    assert json.loads(out.strip().splitlines()[-1])["run_id"] == run["id"]
    report = run_report(store, run["id"])
    assert report.status == "finished" and report.adds_up() and report.funnel["attempts"] == N
    _no_duplicates(store, run["id"])


def test_merge_rebuilds_the_run_from_the_shards_and_is_idempotent(tmp_path):
    main = RunStore(tmp_path / "runs.sqlite")
    main.create_run("r", domain="retail", config={}, seed=0, code_version="t")
    paths = []
    for k in range(2):
        shard = RunStore(tmp_path / f"shard-{k}.sqlite")
        shard.create_run("r", domain="retail", config={}, seed=0, code_version="t")
        bp = shard.save_blueprint(
            run_id="r", attempt=k, round=1, user_id=f"u{k}", data={"a": k}, status="accepted"
        )
        task = shard.save_task({"user_id": f"u{k}"}, bp, run_id="r", id=f"t-{bp}")
        shard.save_trajectory(
            f"{task}:0:x", task_id=task, attempt=0, accepted=1, missing_outputs=[], diff={}
        )
        shard.add_usage("r", "proposer", "propose", "m", 10, 5)
        shard.mark_unit("r", f"attempt:{k}", "done")
        shard.close()
        paths.append(tmp_path / f"shard-{k}.sqlite")
    for _ in range(2):
        merge_shards(main, "r", paths)
        assert len(main.blueprints("r")) == 2 and len(main.run_trajectories("r")) == 2
        [usage] = main.usage("r")
        assert usage["calls"] == 2 and usage["prompt_tokens"] == 20
    # A shard that dropped a row (a failed unit redone) loses it in the run store too.
    shard = RunStore(paths[1])
    shard.db.execute("DELETE FROM trajectories")
    shard.close()
    merge_shards(main, "r", paths)
    assert len(main.run_trajectories("r")) == 1


def test_the_concurrency_budget_is_split_not_multiplied():
    assert split_concurrency(16, 2) == [8, 8]
    assert split_concurrency(10, 3) == [4, 3, 3]
    assert sum(split_concurrency(64, 5)) == 64
    assert split_concurrency(2, 4) == [1, 1, 1, 1]  # each worker needs one call at least


@pytest.fixture(scope="module")
def local_ray(cache_dir):
    ray = pytest.importorskip("ray", reason="Ray is in the dev extra")
    # Workers find the test session's built databases, as a cluster's nodes would find
    # theirs (APIGEN_MT_CACHE_DIR); the endpoint settings travel in each task's spec.
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"APIGEN_MT_CACHE_DIR": str(cache_dir)}},
    )
    yield ray
    ray.shutdown()


def test_ray_runs_the_shards_and_retries_a_killed_worker(local_ray, endpoint, tmp_path):
    from apigen_mt.scale.ray_backend import RayWorkers

    killed: list[int] = []

    class KillOnceRay(RayWorkers):
        def run(self, specs, on_event):
            def watch(event: dict) -> None:
                on_event(event)
                if not killed and event["stage"] == "blueprints" and event["count"]["done"] >= 3:
                    killed.append(event["pid"])
                    threading.Thread(target=os.kill, args=(event["pid"], signal.SIGKILL)).start()

            return super().run(specs, watch)

    run, store = _sharded(tmp_path, KillOnceRay(2))
    run_sharded(run)
    assert killed
    report = run_report(store, run.run_id)
    assert report.status == "finished" and report.adds_up() and report.funnel["attempts"] == N
    assert report.funnel["recombinations"] >= 1
    _no_duplicates(store, run.run_id)
    assert set(store.unit_status(run.run_id).values()) == {"done"}


async def test_the_call_limit_halves_on_429_and_grows_back():
    import asyncio

    from apigen_mt.agents import CallLimit

    limit = CallLimit(16, adaptive=True, cooldown=0.05)
    limit.observe(429)
    limit.observe(429)  # the same burst: within the cooldown, counted once
    assert (limit.limit, limit.decreases, limit.throttled) == (8, 1, 2)
    await asyncio.sleep(0.06)
    limit.observe(429)
    assert limit.limit == 4
    for _ in range(4):  # one full window of successes: one more call
        limit.observe(200)
    assert limit.limit == 5
    for _ in range(200):
        limit.observe(200)
    assert limit.limit == 16  # back to its share, never above
    fixed = CallLimit(4)
    fixed.observe(429)
    assert fixed.limit == 4  # a non-adaptive limit ignores the endpoint


async def test_429s_from_the_endpoint_shrink_calls_in_flight_through_chatopenai(monkeypatch):
    import asyncio

    from apigen_mt.agents import CallLimit, llm_slot
    from apigen_mt.models import chat_model
    from apigen_mt.testing.fake_openai import Fault, Reply

    throttle = Fault(429, {"retry-after-ms": "5"}, '{"error": {"message": "slow down"}}')
    script = [throttle] * 6 + [Reply(content="ok", delay=0.01) for _ in range(200)]
    with FakeOpenAIServer(script=script) as server:
        settings = load_settings(
            {
                "APIGEN_MT_BASE_URL": server.base_url,
                "APIGEN_MT_API_KEY": "k",
                "APIGEN_MT_MAX_RETRIES": "8",
            }
        )
        model = chat_model("assistant", settings)
        limit = CallLimit(8, adaptive=True, cooldown=0.0)
        seen: list[int] = []

        async def call() -> None:
            async with llm_slot():
                seen.append(limit.limit)
                await model.ainvoke("hi")

        from apigen_mt.agents import limited_calls

        with limited_calls(limit):
            await asyncio.gather(*(call() for _ in range(8)))
            low = limit.limit
            assert limit.throttled == 6 and low < 8
            await asyncio.gather(*(call() for _ in range(150)))
        assert limit.limit == 8 and min(seen) <= low  # it grew back to the share


def test_ray_workers_load_a_world_from_the_runs_path(local_ray, monkeypatch, cache_dir, tmp_path):
    """A world run on Ray: each task loads the world folder the run stores (the cluster
    needs it at the same path) and the run adds up like any other."""
    from world_helpers import propose_acme, world_copy

    from apigen_mt.scale.ray_backend import RayWorkers

    world = world_copy(tmp_path / "worlds")
    responder = FaultyResponder(OracleRoles(propose=propose_acme))
    with FakeOpenAIServer(responder=responder) as server:
        for key, value in {"APIGEN_MT_BASE_URL": server.base_url, "APIGEN_MT_API_KEY": "test",
                           "APIGEN_MT_MODEL": "fake-model"}.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        store = store_at(tmp_path / "out")
        config = PipelineConfig(domain=str(world), n=6, best_of_n=1, trials=1, shards=2)
        run_id, config, _ = open_run(store, config)
        run_sharded(ShardedRun(store, run_id, config, load_settings(), RayWorkers(2)))
    report = run_report(store, run_id)
    assert report.status == "finished" and report.adds_up()
    assert report.funnel["attempts"] == 6 and report.funnel["accepted_blueprints"] >= 4
