"""The run store's tables. Every row of a run can be found from its run id."""

from __future__ import annotations

TABLES: dict[str, dict[str, type]] = {
    # One row per `generate` invocation series: config, seed and code version, so a run
    # can be resumed with the same settings and reproduced later.
    "runs": {
        "id": str,
        "domain": str,
        "config": str,
        "seed": int,
        "code_version": str,
        "status": str,  # running | finished | failed
        "created_at": float,
        "updated_at": float,
    },
    # Units of work (a blueprint attempt, a recombination, a dialogue trial): resumption
    # skips the done ones and discards the partial rows of the started ones.
    "units": {
        "id": str,
        "run_id": str,
        "key": str,
        "status": str,  # started | done | failed
        "reason": str,  # why it failed
        "updated_at": float,
    },
    "usage": {
        "id": str,
        "run_id": str,
        "role": str,
        "stage": str,
        "model": str,
        "calls": int,
        "prompt_tokens": int,
        "completion_tokens": int,
    },
    "contexts": {"id": str, "run_id": str, "attempt": int, "data": str},
    # attempt >= 0: a phase-1 attempt; attempt < 0: recombination slot -attempt - 1.
    "blueprints": {
        "id": str,
        "run_id": str,
        "attempt": int,
        "round": int,
        "kind": str,
        "user_id": str,
        "status": str,
        "stage": str,
        "data": str,
        "reasons": str,
        "diff": str,
        "diff_text": str,
        "parents": str,
        "created_at": float,
        # complexity: the writes the walk aimed at, the blueprint's writes and the rules
        # its actions bring into play (set at the execution stage)
        "target_writes": int,
        "writes": int,
        "rules_in_play": int,
    },
    "reviews": {"id": str, "blueprint_id": str, "reviewer": str, "ok": int, "data": str},
    "feedback": {"id": str, "blueprint_id": str, "plan": str},
    # Phase 2: what a dialogue must achieve, its turns as they happen, and its outcome.
    "tasks": {"id": str, "run_id": str, "blueprint_id": str, "data": str},
    "turns": {"id": str, "episode_id": str, "idx": int, "message": str},
    "trajectories": {
        "id": str,
        "task_id": str,
        "attempt": int,
        "accepted": int,
        "ended_by": str,
        "steps": int,
        "reason": str,
        "missing_outputs": str,
        "diff": str,
        "fingerprint": str,
        "duplicate": int,
        # τ² tasks: the reward (product of the basis' components) and every check behind it
        "reward": float,
        "reward_info": str,
        # one record per simulated-user turn: the fidelity checks that rejected candidates
        # and the flags of the reply sent (graphs/human_turn.py FIDELITY_CHECKS)
        "fidelity": str,
        # who failed, for a rejected trajectory: agent | user | task | infrastructure
        "side": str,
        "state_hash": str,  # the episode's final database (audit: do solvers agree?)
        "created_at": float,
    },
}

# `apigen-mt audit`: each task's solve rate by a solver model, and what was flagged.
TABLES["audits"] = {
    "id": str,
    "audit_id": str,
    "task": str,  # the task's source (file#index, file#τ² id, a run's task id)
    "model": str,
    "trials": int,
    "solved": int,
    "solve_rate": float,
    "flags": str,
    "closest_diff": str,
}

# `apigen-mt eval`: each task's pass rate under one evaluation (the difficulty a curriculum
# filters on: `export --min-pass-rate/--max-pass-rate`, the RL task sets' `pass_rate`).
TABLES["pass_rates"] = {
    "id": str,
    "eval_id": str,
    "task": str,  # the task's source, as in `audits`
    "model": str,  # the model under test (the evaluation's label)
    "trials": int,
    "passed": int,
    "pass_rate": float,
    "created_at": float,
}

INDEXES = [
    ("units", ["run_id", "key"], True),
    ("usage", ["run_id", "role", "stage", "model"], True),
    ("contexts", ["run_id", "attempt"], False),
    ("blueprints", ["run_id", "attempt"], False),
    ("reviews", ["blueprint_id"], False),
    ("feedback", ["blueprint_id"], False),
    ("tasks", ["run_id"], False),
    ("turns", ["episode_id", "idx"], False),
    ("trajectories", ["task_id"], False),
    ("audits", ["task"], False),
    ("pass_rates", ["task"], False),
]
