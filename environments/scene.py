"""A task's starting scene, for domains whose tasks begin with something broken (τ²'s
telecom): the initialization actions that break it, on either side of the sandbox, and the
env assertions that must hold once it is fixed.

Phase 1 draws one per attempt (`TaskHooks.sample_scene`): the proposer writes the
instruction and the fix (gold actions with their requestors) for it; the checks run the
fix after the scene's setup and demand every assertion hold; the task then carries the
scene as τ² criteria, so phase 2 starts from it and is scored by τ²'s rewards.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from apigen_mt.tools import ToolError

from .tau2.tasks import tau2_actions
from .taubench import run_setup

# τ²'s own criteria for a composed task: every assertion of the scene (ENV_ASSERTION); a
# fix that is a transfer to a human is also an ACTION to match (it changes no state). Not
# DB: τ²'s evaluator takes its gold state without a sync after the gold actions, so its DB
# differs from the state a conversation reaches whenever the last fix needs one (a refuel).
# APIGen-MT's exact proven state is demanded on top, by the task's `exact_state`.
SCENE_REWARD_BASIS = ("ENV_ASSERTION",)
TRANSFER = "transfer_to_human_agents"


class Scene(BaseModel):
    id: str  # e.g. τ²'s composition name, `[intent]issue|issue[PERSONA:p]`
    issues: list[str] = Field(default_factory=list)  # what is broken, by name
    setup: list[dict[str, Any]]  # τ² initialization actions: env_type, func_name, arguments
    env_assertions: list[dict[str, Any]]  # env_type, func_name, arguments, assert_value
    user_knows: str = ""  # what the user knows (τ²'s known_info): name, number, whereabouts
    reason_for_call: str = ""  # the symptom, in the user's words
    persona: str | None = None

    def prepare(self, sandbox) -> None:
        """Set a fresh sandbox up as the scene starts (ValueError when a step fails)."""
        run_setup(sandbox, {"tau2": {"id": self.id, "setup": self.setup}})

    def failing(self, sandbox) -> list[str]:
        """The assertions that do not hold in `sandbox` now, each as `side:name(args)`."""
        return [assertion_text(a) for a in self.env_assertions if not holds(sandbox, a)]

    def criteria(self, actions: list[dict[str, Any]]) -> dict[str, Any]:
        """The τ² criteria of a task on this scene whose gold is `actions` (the blueprint's,
        with requestors): what phase 2 starts from and is scored by."""
        basis = list(SCENE_REWARD_BASIS)
        if any(a["name"] == TRANSFER for a in actions):
            basis.append("ACTION")
        return {
            "id": self.id,
            "reward_basis": basis,
            "actions": tau2_actions(actions),
            "communicate_info": [],
            "nl_assertions": [],
            "env_assertions": self.env_assertions,
            "setup": self.setup,
        }


def holds(sandbox, assertion: dict[str, Any]) -> bool:
    """Whether one env assertion holds (one whose function fails does not)."""
    try:
        value = sandbox.function(
            assertion["env_type"], assertion["func_name"], assertion.get("arguments") or {}
        )
    except (ToolError, ValueError, TypeError):
        return False
    return value == assertion.get("assert_value", True)


def assertion_text(assertion: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in (assertion.get("arguments") or {}).items())
    want = assertion.get("assert_value", True)
    return f"{assertion['env_type']}:{assertion['func_name']}({args})" + (
        "" if want is True else f" == {want!r}"
    )
