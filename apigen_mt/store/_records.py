"""Phase-1 and phase-2 records: what graph nodes write while they run."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import sqlite_utils
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from ._schema import TABLES


class PhaseRecords:
    """Contexts, blueprints, reviews, feedback plans, tasks, turns and trajectories."""

    db: sqlite_utils.Database
    _lock: threading.Lock

    def _insert(self, table: str, row: dict[str, Any]) -> str: ...

    def save_context(self, run_id: str, attempt: int, data: dict[str, Any]) -> str:
        return self._insert(
            "contexts", {"run_id": run_id, "attempt": attempt, "data": json.dumps(data)}
        )

    def context(self, context_id: str) -> dict[str, Any]:
        with self._lock:
            return json.loads(self.db["contexts"].get(context_id)["data"])

    def context_of_attempt(self, run_id: str, attempt: int) -> dict[str, Any] | None:
        with self._lock:
            rows = list(
                self.db["contexts"].rows_where(
                    "run_id = ? AND attempt = ?", [run_id, attempt], limit=1
                )
            )
        return json.loads(rows[0]["data"]) if rows else None

    def save_blueprint(
        self,
        *,
        run_id: str,
        attempt: int,
        round: int,
        user_id: str,
        data: dict[str, Any] | None,
        kind: str = "proposed",
        parents: list[str] | None = None,
        status: str = "proposed",
    ) -> str:
        return self._insert(
            "blueprints",
            {
                "run_id": run_id,
                "attempt": attempt,
                "round": round,
                "kind": kind,
                "user_id": user_id,
                "status": status,
                "stage": "propose",
                "data": json.dumps(data),
                "reasons": "[]",
                "diff": "[]",
                "diff_text": "",
                "parents": json.dumps(parents or []),
                "created_at": time.time(),
            },
        )

    def update_blueprint(self, blueprint_id: str, **values: Any) -> None:
        encoded = {
            k: json.dumps(v) if k in ("reasons", "diff", "data") else v for k, v in values.items()
        }
        unknown = set(encoded) - set(TABLES["blueprints"])
        if unknown:
            raise ValueError(f"unknown blueprint fields: {sorted(unknown)}")
        if not encoded:
            return
        sets = ", ".join(f'"{k}" = ?' for k in encoded)
        with self._lock:
            done = self.db.conn.execute(
                f"UPDATE blueprints SET {sets} WHERE id = ?", [*encoded.values(), blueprint_id]
            )
        if not done.rowcount:
            raise KeyError(f"no blueprint {blueprint_id!r}")

    def blueprint(self, blueprint_id: str) -> dict[str, Any]:
        with self._lock:
            cursor = self.db.conn.execute("SELECT * FROM blueprints WHERE id = ?", [blueprint_id])
            found = cursor.fetchone()
        if found is None:
            raise KeyError(f"no blueprint {blueprint_id!r}")
        row = dict(zip([d[0] for d in cursor.description], found, strict=True))
        for k in ("data", "reasons", "diff", "parents"):
            row[k] = json.loads(row[k])
        return row

    def blueprints(self, run_id: str | None = None, status: str | None = None) -> list[dict]:
        where, params = [], []
        if run_id:
            where.append("run_id = ?")
            params.append(run_id)
        if status:
            where.append("status = ?")
            params.append(status)
        with self._lock:
            ids = [
                r["id"]
                for r in self.db["blueprints"].rows_where(
                    " AND ".join(where) or None, params, order_by="created_at"
                )
            ]
        return [self.blueprint(i) for i in ids]

    def save_review(self, blueprint_id: str, reviewer: str, ok: bool, data: dict[str, Any]) -> str:
        return self._insert(
            "reviews",
            {
                "blueprint_id": blueprint_id,
                "reviewer": reviewer,
                "ok": int(ok),
                "data": json.dumps(data),
            },
        )

    def reviews(self, blueprint_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self.db["reviews"].rows_where("blueprint_id = ?", [blueprint_id]))
        return [{**r, "data": json.loads(r["data"])} for r in rows]

    def save_feedback(self, blueprint_id: str, plan: str) -> str:
        return self._insert("feedback", {"blueprint_id": blueprint_id, "plan": plan})

    def feedback(self, blueprint_id: str) -> str | None:
        with self._lock:
            rows = list(self.db["feedback"].rows_where("blueprint_id = ?", [blueprint_id]))
        return rows[-1]["plan"] if rows else None

    # -- phase 2 -------------------------------------------------------------------------

    def save_task(
        self, data: dict[str, Any], blueprint_id: str = "", *, run_id: str = "", id: str = ""
    ) -> str:
        """Store a task; with an explicit `id`, saving it again replaces it (idempotent)."""
        row = {"run_id": run_id, "blueprint_id": blueprint_id, "data": json.dumps(data)}
        if not id:
            return self._insert("tasks", row)
        with self._lock:
            self.db["tasks"].insert({"id": id, **row}, replace=True)
        return id

    def tasks(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self.db["tasks"].rows_where("run_id = ?", [run_id], order_by="rowid"))
        return [{**r, "data": json.loads(r["data"])} for r in rows]

    def task(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            row = self.db.execute("SELECT data FROM tasks WHERE id = ?", [task_id]).fetchone()
        if row is None:
            raise KeyError(f"no task {task_id!r}")
        return json.loads(row[0])

    def append_turns(
        self, episode_id: str, messages: list[BaseMessage], start: int | None = None
    ) -> None:
        """Append to the episode's turns; `start` is the number already stored, when the
        caller knows it (else it is counted)."""
        rows = [json.dumps(message_to_dict(m)) for m in messages]
        with self._lock:
            if start is None:
                start = self.db.execute(
                    "SELECT count(*) FROM turns WHERE episode_id = ?", [episode_id]
                ).fetchone()[0]
            self.db.conn.executemany(
                "INSERT INTO turns (id, episode_id, idx, message) VALUES (?, ?, ?, ?)",
                [
                    (f"{episode_id}:{start + i}", episode_id, start + i, row)
                    for i, row in enumerate(rows)
                ],
            )

    def transcript(self, episode_id: str) -> list[BaseMessage]:
        with self._lock:
            rows = self.db.execute(
                "SELECT message FROM turns WHERE episode_id = ? ORDER BY idx", [episode_id]
            ).fetchall()
        return messages_from_dict([json.loads(r[0]) for r in rows])

    def save_trajectory(self, episode_id: str, **values: Any) -> None:
        row = {"id": episode_id, "created_at": time.time()}
        row.update(
            (k, json.dumps(v) if isinstance(v, list | dict) else v) for k, v in values.items()
        )
        unknown = set(row) - set(TABLES["trajectories"])
        if unknown:
            raise ValueError(f"unknown trajectory fields: {sorted(unknown)}")
        with self._lock:
            self.db.conn.execute(
                f"INSERT INTO trajectories ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )

    def trajectories(self, task_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(
                self.db["trajectories"].rows_where("task_id = ?", [task_id], order_by="attempt")
            )
        return _decoded(rows)

    def has_accepted(self, task_id: str, fingerprint: str) -> bool:
        """Whether the task already has an accepted trajectory with this fingerprint."""
        with self._lock:
            (found,) = self.db.execute(
                "SELECT EXISTS (SELECT 1 FROM trajectories WHERE task_id = ? AND accepted "
                "AND fingerprint = ?)",
                [task_id, fingerprint],
            ).fetchone()
        return bool(found)

    def save_audit(self, audit_id: str, model: str, tasks: list[dict[str, Any]]) -> None:
        """An audit's per-task results (a task audited again replaces its row)."""
        with self._lock:
            for t in tasks:
                self.db.conn.execute(
                    "INSERT OR REPLACE INTO audits (id, audit_id, task, model, trials, solved, "
                    "solve_rate, flags, closest_diff) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [f"{audit_id}:{t['task']}", audit_id, t["task"], model, t["trials"],
                     t["solved"], t["solve_rate"], json.dumps(t["flags"]),
                     json.dumps(t["closest_diff"])],
                )  # fmt: skip

    def solve_rates(self, task: str) -> list[dict[str, Any]]:
        """Every audit's solve rate of a task (by its source), newest last."""
        with self._lock:
            return [dict(r) for r in self.db.query(
                "SELECT audit_id, model, trials, solved, solve_rate, flags FROM audits "
                "WHERE task = ? ORDER BY rowid", [task])]  # fmt: skip

    def save_pass_rates(self, eval_id: str, model: str, tasks: list[dict[str, Any]]) -> None:
        """An evaluation's pass rate per task ({task, trials, passed}); a finished
        evaluation finished again replaces its rows."""
        now = time.time()
        with self._lock:
            for t in tasks:
                self.db.conn.execute(
                    "INSERT OR REPLACE INTO pass_rates (id, eval_id, task, model, trials, passed, "
                    "pass_rate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [f"{eval_id}:{t['task']}", eval_id, t["task"], model, t["trials"],
                     t["passed"], t["passed"] / t["trials"] if t["trials"] else 0.0, now],
                )  # fmt: skip

    def pass_rate(self, task: str) -> dict[str, Any] | None:
        """The newest evaluation's pass rate of a task (by its source): {pass_rate, model,
        trials, passed, eval_id}, or None when no evaluation measured it."""
        with self._lock:
            rows = [dict(r) for r in self.db.query(
                "SELECT eval_id, model, trials, passed, pass_rate FROM pass_rates "
                "WHERE task = ? ORDER BY created_at DESC, rowid DESC LIMIT 1", [task])]  # fmt: skip
        return rows[0] if rows else None

    def run_trajectories(self, run_id: str) -> list[dict[str, Any]]:
        """Every trajectory of a run, in task order then attempt order."""
        with self._lock:
            rows = [
                dict(r)
                for r in self.db.query(
                    "SELECT tr.* FROM trajectories tr JOIN tasks t ON tr.task_id = t.id "
                    "WHERE t.run_id = ? ORDER BY t.rowid, tr.attempt, tr.created_at",
                    [run_id],
                )
            ]
        return _decoded(rows)

    def funnel(self, run_id: str | None = None) -> dict[str, int]:
        """How far each proposed blueprint got: counts per stage passed."""
        order = ["propose", "format", "execution", "policy", "committee", "accepted"]
        reached = {"proposals": 0, **{s: 0 for s in order}}
        for b in self.blueprints(run_id):
            if b["kind"] != "proposed":
                continue
            reached["proposals"] += 1
            stage = "accepted" if b["status"] == "accepted" else b["stage"]
            for s in order[: order.index(stage) + 1] if stage in order else []:
                reached[s] += 1
        return reached


def _decoded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        r["missing_outputs"] = json.loads(r["missing_outputs"])
        r["diff"] = json.loads(r["diff"])
        r["reward_info"] = json.loads(r["reward_info"]) if r.get("reward_info") else None
        r["fidelity"] = json.loads(r["fidelity"]) if r.get("fidelity") else []
    return rows
