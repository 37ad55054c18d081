"""The run store's bookkeeping: runs, units, discarding partial work, usage, old stores."""

from __future__ import annotations

import sqlite3

from langchain_core.messages import HumanMessage

from apigen_mt.store import RunStore


def test_discarding_a_dialogue_unit_removes_only_its_own_rows(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    for episode in ("t-a_1:0:x1", "t-a_1:1:x2", "t-a%1:0:x3"):
        store.append_turns(episode, [HumanMessage("hi")])
    store.save_trajectory("t-a_1:0:x1", task_id="t-a_1", attempt=0, accepted=1)
    removed = store.discard_partial("run", "dialogue:t-a_1:0")
    assert removed == 2
    left = {r[0] for r in store.db.execute("SELECT episode_id FROM turns")}
    assert left == {"t-a_1:1:x2", "t-a%1:0:x3"}  # LIKE wildcards in ids are escaped


def test_discarding_an_attempt_removes_its_blueprints_reviews_feedback_and_context():
    store = RunStore()
    store.save_context("run", 3, {"user_id": "u"})
    keep = store.save_blueprint(run_id="run", attempt=4, round=1, user_id="u", data={})
    gone = store.save_blueprint(run_id="run", attempt=3, round=1, user_id="u", data={})
    store.save_review(gone, "reviewer_0", True, {})
    store.save_feedback(gone, "plan")
    store.save_review(keep, "reviewer_0", True, {})
    assert store.discard_partial("run", "attempt:3") == 4
    assert [b["id"] for b in store.blueprints("run")] == [keep]
    assert store.context_of_attempt("run", 3) is None and store.reviews(keep)


def test_units_and_usage_accumulate():
    store = RunStore()
    store.create_run("r", domain="retail", config={"n": 1}, seed=0, code_version="x")
    store.mark_unit("r", "attempt:0", "started")
    store.mark_unit("r", "attempt:0", "done")
    store.mark_unit("r", "attempt:1", "failed", "boom")
    assert store.unit_status("r") == {"attempt:0": "done", "attempt:1": "failed"}
    assert store.failed_units("r")[0]["reason"] == "boom"
    for _ in range(3):
        store.add_usage("r", "proposer", "propose", "m", 10, 2)
    [row] = store.usage("r")
    assert (row["calls"], row["prompt_tokens"], row["completion_tokens"]) == (3, 30, 6)


def test_a_store_written_by_an_older_version_gains_the_new_columns(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE tasks (id TEXT PRIMARY KEY, blueprint_id TEXT, data TEXT)")
    conn.execute("INSERT INTO tasks VALUES ('t1', 'b1', '{}')")
    conn.commit()
    conn.close()
    store = RunStore(path)
    assert store.task("t1") == {}
    assert "run_id" in store.db["tasks"].columns_dict
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
