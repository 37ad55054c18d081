"""Who failed, for a dialogue that was not accepted: the agent, the simulated user, the task,
or the infrastructure — so a rejected trajectory is not blamed on the model by default.

- `infrastructure`: a role's endpoint failed (transport), or a world's tool server did;
- `task`: the task was flagged by `apigen-mt audit` (no solver solved it, or solvers that
  did reached different states) — the dialogue could not have been right;
- `user`: a user-fidelity check fired on the reply sent (τ²'s protocol rejects nothing) or
  no candidate passed them (the turn failed), or the user's model gave no usable reply;
- `agent`: everything else (a wrong state, missing outputs, the step limit, an agent that
  could not answer).
"""

from __future__ import annotations

from typing import Any

SIDES = ("agent", "user", "task", "infrastructure")
USER_CHECKS_THAT_BLAME = (
    "invented_fact",
    "premature_stop",
    "stop_while_confirming",
    "asks_beyond_instruction",
)


def failure_side(
    ended_by: str, reason: str, fidelity: list[dict[str, Any]], task: dict[str, Any]
) -> str:
    if ended_by == "tool_failure" or ": transport:" in reason:
        return "infrastructure"
    if (task.get("audit") or {}).get("flag"):
        return "task"
    if ended_by == "human_failure":
        return "user"
    if any(f in USER_CHECKS_THAT_BLAME for turn in fidelity for f in turn.get("flags", [])):
        return "user"
    return "agent"
