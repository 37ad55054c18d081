"""`apigen-mt compose`: new tau2-telecom tasks composed from τ²'s train split (issue × fix
× persona), each proven on the domain; none is one of τ²'s tasks or a test task's issues;
the file is τ²'s format (replay and eval read it)."""

from __future__ import annotations

import json

from tau2_reference import tasks_file
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.environments import Environment
from apigen_mt.environments.tau2_telecom.compose import Catalogue, parse_id, prove


def test_composed_tasks_are_new_proven_and_read_back(tmp_path, cache_dir):
    source = tasks_file("telecom")
    out = tmp_path / "new.json"
    run = CliRunner().invoke(app, ["compose", "--tasks", str(source), "--out", str(out),
                                   "--n", "40", "--seed", "3"])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert "40 new tasks" in run.output
    new = json.loads(out.read_text())
    theirs = json.loads(source.read_text())
    splits = json.loads(source.with_name("split_tasks.json").read_text())
    test_sets = {(parse_id(i)[0], frozenset(parse_id(i)[1])) for i in splits["test"]}
    assert len({t["id"] for t in new}) == 40
    assert not {t["id"] for t in new} & {t["id"] for t in theirs}
    assert not {(parse_id(t["id"])[0], frozenset(parse_id(t["id"])[1])) for t in new} & test_sets
    env = Environment.from_tau2("tau2-telecom", source.parent, cache_dir=cache_dir)
    assert all(prove(env, t) == "" for t in new)
    sides = {a["requestor"] for t in new for a in t["evaluation_criteria"]["actions"]}
    assert sides == {"user", "assistant"}  # dual control: both sides fix things
    replay = CliRunner().invoke(app, ["replay", "--domain", "tau2-telecom", "--tasks", str(out),
                                      "--data-dir", str(source.parent), "--cache-dir",
                                      str(cache_dir)])  # fmt: skip
    assert replay.exit_code == 0, replay.output
    args = ["--n", "40", "--seed", "3"]
    again = CliRunner().invoke(
        app, ["compose", "--tasks", str(source), "--out", str(tmp_path / "again.json"), *args]
    )
    assert again.exit_code == 0
    assert json.loads((tmp_path / "again.json").read_text()) == new  # deterministic by seed


def test_the_catalogue_learns_from_the_train_split_only():
    source = tasks_file("telecom")
    splits = json.loads(source.with_name("split_tasks.json").read_text())
    by_id = {t["id"]: t for t in json.loads(source.read_text())}
    catalogue = Catalogue([by_id[i] for i in splits["train"]])
    assert {t["id"] for t in catalogue.tasks} == set(splits["train"])
    part = catalogue.parts[("mobile_data_issue", "data_mode_off")]
    assert [json.loads(k.split(":", 1)[1])[1] for k in part["init"]] == ["turn_data_off"]
    assert [json.loads(k.split(":", 1)[1])[1] for k in part["fix"]] == ["toggle_data"]


def test_a_broken_composition_is_refused_with_its_reason(cache_dir):
    source = tasks_file("telecom")
    env = Environment.from_tau2("tau2-telecom", source.parent, cache_dir=cache_dir)
    task = json.loads(source.read_text())[0]
    task["evaluation_criteria"]["actions"] = []  # nothing fixes the phone
    assert prove(env, task).startswith("still failing after the fix")
    task["initial_state"]["initialization_actions"] = task["initial_state"][
        "initialization_actions"
    ][:1]  # only who the user is: nothing broken
    task["evaluation_criteria"]["env_assertions"] = [
        a for a in task["evaluation_criteria"]["env_assertions"]
        if a["func_name"] == "assert_mobile_data_status"
    ]  # fmt: skip
    assert prove(env, task) == "nothing is broken before the fix"
