"""`apigen-mt generate | runs | report | export` through the real ChatOpenAI path, against a
loopback endpoint that plays every role."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from loopback import oracle_endpoint
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.runs import store_at

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


@pytest.fixture()
def env_vars(cli_env):
    return cli_env


def cli(*args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result


@pytest.fixture()
def finished_run(env_vars, tmp_path):
    with oracle_endpoint(env_vars):
        result = cli(
            "generate",
            "--domain",
            "retail",
            "--n",
            "6",
            "--out",
            str(tmp_path),
            "--best-of-n",
            "1",
            "--json",
        )
    assert result.exit_code == 0, result.output
    return tmp_path, json.loads(result.stdout.strip().splitlines()[-1])


def test_generate_prints_the_run_id_and_funnel_as_its_last_json_line(finished_run):
    out, last = finished_run
    assert last["run_id"] and last["funnel"]["attempts"] == 6
    assert (
        last["funnel"]["trajectories_unique"]
        == last["funnel"]["accepted_blueprints"] + (last["funnel"]["recombined_accepted"])
    )
    store = store_at(out)
    [run] = store.runs()
    assert run["status"] == "finished" and run["config"]["n"] == 6 and run["code_version"]


def test_report_json_holds_stage_counts_and_tokens(finished_run):
    out, last = finished_run
    result = cli("report", last["run_id"], "--out", str(out), "--json")
    report = json.loads(result.stdout)
    assert report["funnel"] == last["funnel"]
    assert report["total"]["calls"] > 0 and report["total"]["prompt_tokens"] > 0
    assert report["tokens_by_stage"]["dialogue"]["cost"] == 0  # fake-model is priced at 0


def test_report_prices_come_from_a_table(finished_run, tmp_path):
    out, last = finished_run
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"fake-model": {"prompt": 1.0, "completion": 2.0}}))
    report = json.loads(
        cli("report", last["run_id"], "--out", str(out), "--json", "--prices", str(prices)).stdout
    )
    total = report["total"]
    expected = (total["prompt_tokens"] * 1.0 + total["completion_tokens"] * 2.0) / 1e6
    assert report["total"]["cost"] == pytest.approx(expected)
    assert report["cost_per_trajectory"] == pytest.approx(
        expected / report["funnel"]["trajectories_unique"]
    )
    prices.write_text("{not json")
    bad = cli("report", last["run_id"], "--out", str(out), "--prices", str(prices))
    assert bad.exit_code == 2 and "price table" in bad.output


def test_runs_list_and_show(finished_run):
    out, last = finished_run
    listed = json.loads(cli("runs", "list", "--out", str(out), "--json").stdout)
    assert [r["run_id"] for r in listed] == [last["run_id"]]
    shown = cli("runs", "show", last["run_id"], "--out", str(out))
    assert shown.exit_code == 0 and "attempt done" in shown.stdout


def test_export_writes_every_format(finished_run):
    out, last = finished_run
    for fmt in ("sharegpt", "openai", "hf"):
        result = cli("export", last["run_id"], "--out", str(out), "--format", fmt)
        assert result.exit_code == 0, result.output
    exports = out / "exports"
    rows = json.loads((exports / f"{last['run_id']}.sharegpt.json").read_text())
    assert len(rows) == last["funnel"]["trajectories_unique"]
    lines = (exports / f"{last['run_id']}.openai.jsonl").read_text().splitlines()
    assert len(lines) == len(rows)
    assert (exports / f"{last['run_id']}-hf" / "README.md").is_file()


def test_a_second_generate_resumes_an_unfinished_run_instead_of_starting_over(env_vars, tmp_path):
    store = store_at(tmp_path)
    with oracle_endpoint(env_vars):
        first = cli(
            "generate",
            "--domain",
            "retail",
            "--n",
            "3",
            "--out",
            str(tmp_path),
            "--best-of-n",
            "1",
            "--json",
        )
        run_id = json.loads(first.stdout.splitlines()[-1])["run_id"]
        store.set_run_status(run_id, "interrupted")  # as if it had been killed
        again = cli(
            "generate",
            "--domain",
            "retail",
            "--n",
            "3",
            "--out",
            str(tmp_path),
            "--best-of-n",
            "1",
            "--json",
        )
        assert "Resuming" in again.stderr
        assert json.loads(again.stdout.splitlines()[-1])["run_id"] == run_id
        fresh = cli(
            "generate",
            "--domain",
            "retail",
            "--n",
            "3",
            "--out",
            str(tmp_path),
            "--best-of-n",
            "1",
            "--json",
            "--new",
        )
        assert json.loads(fresh.stdout.splitlines()[-1])["run_id"] != run_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--domain", "nowhere", "--n", "2"], "nowhere"),
        (["--domain", "retail", "--n", "0"], "n: Input should be greater than or equal to 1"),
        (["--domain", "retail", "--n", "2", "--max-attempts", "5"], "give --target too"),
        (["--domain", "retail", "--n", "2", "--recombine-rate", "3"], "recombine_rate"),
        (["--domain", "retail", "--n", "2", "--resume", "nope"], "no run 'nope'"),
    ],
)
def test_bad_generate_arguments_are_clear_errors(env_vars, tmp_path, args, message):
    result = cli("generate", *args, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_commands_on_a_missing_store_or_run_are_clear_errors(finished_run, tmp_path):
    out, _ = finished_run
    assert "no run store" in cli("runs", "list", "--out", str(tmp_path / "none")).output
    missing = cli("report", "nope", "--out", str(out))
    assert missing.exit_code == 2 and "no run 'nope'" in " ".join(missing.output.split())
    bad = cli("export", "nope", "--out", str(out), "--format", "csv")
    assert bad.exit_code == 2 and "sharegpt" in bad.output


def test_an_export_with_nothing_to_export_says_why_and_fails(env_vars, tmp_path):
    from apigen_mt.testing.scripted_roles import OracleRoles

    def propose_nothing_valid(records):  # every blueprint fails its execution check
        return {"reasoning": "", "user_id": records["user_id"], "instruction": "x",
                "actions": [{"name": "cancel_pending_order",
                             "arguments": {"order_id": "#W0000000", "reason": "no longer needed"}}],
                "outputs": []}  # fmt: skip

    with oracle_endpoint(env_vars, oracle=OracleRoles(propose=propose_nothing_valid)):
        made = cli("generate", "--domain", "retail", "--n", "1", "--out", str(tmp_path),
                   "--best-of-n", "1", "--json")  # fmt: skip
    run_id = json.loads(made.stdout.strip().splitlines()[-1])["run_id"]
    result = cli("export", run_id, "--out", str(tmp_path), "--format", "openai")
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert f"nothing to export: run {run_id} has no accepted trajectories" in said
    assert "0 accepted blueprints" in said and "Nothing was written" in said
    assert not (tmp_path / "exports" / f"{run_id}.openai.jsonl").exists()


def test_run_settings_record_the_embedded_models_concurrency(env_vars, tmp_path, monkeypatch):
    """The embedded model runs with 2 calls in flight; the stored settings say so."""
    from contextlib import contextmanager

    from apigen_mt.cli import generate as generate_cli

    for name in ("APIGEN_MT_BASE_URL", "APIGEN_MT_MODEL", "APIGEN_MT_API_KEY"):
        env_vars.delenv(name, raising=False)

    @contextmanager
    def no_model(settings, say):  # stop before the embedded model would start
        raise RuntimeError("not started in this test")
        yield

    monkeypatch.setattr(generate_cli, "resolved_endpoint", no_model)
    result = CliRunner().invoke(app, ["generate", "--domain", "retail", "--n", "2",
                                      "--out", str(tmp_path)])  # fmt: skip
    assert "Embedded model: concurrency 2." in result.output
    [run] = store_at(tmp_path).runs()
    assert run["config"]["concurrency"] == 2


def test_a_missing_store_says_where_the_runs_are(finished_run, tmp_path, monkeypatch):
    out, _ = finished_run
    monkeypatch.chdir(out.parent)
    said = " ".join(cli("runs", "list", "--out", "runs").output.split())
    assert "no run store in runs" in said and out.name in said  # the store beside it, named


def test_demo_runs_the_whole_pipeline_scripted_and_says_so(env_vars, tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    funnel = last["funnel"]
    assert funnel["accepted_blueprints"] > 0 and funnel["dialogues_accepted"] > 0
    assert last["scripted"] and (tmp_path / "exports").is_dir()
    rows = Path(last["export"]).read_text().splitlines()
    assert len(rows) == funnel["trajectories_unique"] > 0
    said = " ".join(result.stderr.split())
    assert "Scripted demo" in said and f"apigen-mt browse --out {tmp_path}" in said
    [run] = store_at(tmp_path).runs()
    assert run["config"]["scripted"] is True
    pytest.importorskip("datasette")
    import asyncio

    from apigen_mt.browse import make_datasette

    page = asyncio.run(
        make_datasette(tmp_path / "runs.sqlite").client.get(f"/apigen/run/{run['id']}")
    )
    assert 'id="scripted"' in page.text


def test_the_end_of_an_embedded_run_explains_itself():
    from apigen_mt.cli.generate import closing_advice

    said = " ".join(closing_advice({"trajectories_unique": 0}, True, "RUN", Path("out")))
    assert "0 accepted is expected" in said and "APIGEN_MT_BASE_URL=" in said
    assert "apigen-mt demo" in said
    real = " ".join(closing_advice({"trajectories_unique": 0}, False, "RUN", Path("out")))
    assert "apigen-mt report RUN --out out" in real
    assert closing_advice({"trajectories_unique": 3}, False, "RUN", Path("out")) == []


def test_piped_output_is_not_cut_at_80_columns(tmp_path, cache_dir):
    import subprocess
    import sys

    bad = tmp_path / "tasks.json"
    tool = "cancel_" + "x" * 90  # its reason line is far wider than 80 columns
    task = {"user_id": "u", "instruction": "i", "actions": [{"name": tool, "arguments": {}}]}
    bad.write_text(json.dumps([task]))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["APIGEN_MT_CACHE_DIR"] = str(cache_dir)
    args = ["validate", "--domain", "retail", "--tasks", str(bad)]
    out = subprocess.run(
        [sys.executable, "-m", "apigen_mt.cli", *args], capture_output=True, text=True, env=env
    )
    line = next(x for x in out.stdout.splitlines() if "unknown tool" in x)
    assert len(line) > 100 and tool in line
