"""Phase 1 for tasks that start from a scene (dual control, τ²'s telecom).

An attempt's context carries the scene its domain drew (`TaskHooks.sample_scene`): what is
broken, on which side, and what must hold once fixed. The proposer is shown it with both
sides' tools (the user's, with requestor "user", act on the user's own device); every check
that runs the gold actions first sets the scene up; the execution check then demands that
every assertion of the scene hold; the committee sees the calls as they ran after it. The
phase-2 task carries the scene as τ² criteria (`Scene.criteria`).
"""

from __future__ import annotations

from typing import Any

from apigen_mt.environments.scene import Scene, assertion_text


def scene_of_context(context: dict[str, Any] | None) -> Scene | None:
    """The scene of a stored sampled context (None: the task starts from the database)."""
    raw = (context or {}).get("scene")
    return Scene.model_validate(raw) if raw else None


def scene_of_record(store, record: dict[str, Any]) -> Scene | None:
    """The scene a stored blueprint was proposed on (a recombination has none: scene
    domains do not recombine)."""
    if record.get("attempt", -1) < 0:
        return None
    return scene_of_context(store.context_of_attempt(record["run_id"], record["attempt"]))


def prepare_of(scene: Scene | None):
    return scene.prepare if scene is not None else None


def assertions_hold(scene: Scene):
    """A check on the sandbox after the gold actions: each assertion of the scene that
    still fails, as a reason."""

    def check(sandbox) -> list[str]:
        return [
            f"execution: after the actions, {a} does not hold: the scene is not fixed (who "
            "must act? the user's device can only be changed by the user's tools)"
            for a in scene.failing(sandbox)
        ]

    return check


def scene_prompt(scene: Scene) -> str:
    """The scene as the proposer reads it."""
    setup = "\n".join(
        f"- {c['env_type']}: {c['func_name']}({_args(c.get('arguments'))})" for c in scene.setup
    )
    goal = "\n".join(f"- {assertion_text(a)}" for a in scene.env_assertions)
    lines = [
        f"Scene: {scene.id}",
        f"Broken before the conversation starts (issues: {', '.join(scene.issues) or 'see setup'}"
        "); nobody in the conversation did it, and the user does not know the cause.",
        f"The setup that broke it:\n{setup}",
        f"When the task is done, all of these must hold on the final state:\n{goal}",
        f"What the user knows: {scene.user_knows or '(nothing beyond their identity)'}",
        f"Why the user calls: {scene.reason_for_call or '(write it from the symptoms)'}",
    ]
    return "\n".join(lines)


def _args(arguments: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in (arguments or {}).items())
