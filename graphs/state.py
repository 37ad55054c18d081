"""Phase-1 graph state: ids and small values only; full records are in the run store."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


def merge_reviews(old: list[dict] | None, new: list[dict] | None) -> list[dict]:
    """Committee branches append their verdicts; `None` clears them for the next round."""
    if new is None:
        return []
    return (old or []) + new


class BlueprintState(TypedDict, total=False):
    attempt: int  # which context sample of the run (seeds the samplers)
    user_id: str
    context_id: str
    round: int
    blueprint_id: str | None
    reasons: list[str]  # why the current round failed (written by sequential nodes)
    reviews: Annotated[list[dict[str, Any]], merge_reviews]  # {reviewer, ok, scores}
    history: Annotated[list[dict[str, Any]], operator.add]  # one small entry per round
    status: str  # "accepted" | "rejected" while running: ""


class RecombineState(TypedDict, total=False):
    parent_ids: list[str]
    slot: int  # which recombination of the run (stored as attempt -1 - slot)
    user_id: str
    blueprint_id: str | None
    reasons: list[str]
    reviews: Annotated[list[dict[str, Any]], merge_reviews]
    status: str


class DialogueState(TypedDict, total=False):
    task_id: str
    episode_id: str  # the transcript's key in the store
    sandbox_id: str  # the episode's sandbox, held in the context, never in state
    attempt: int
    steps: int
    errors: int  # failed tool calls (τ²'s protocol ends an episode at its error limit)
    ended_by: str  # user_stop | transfer | turn_limit | human_failure | assistant_failure
    # (τ² protocol also: agent_stop, error_limit)
    accepted: bool
    reason: str
    side: str  # who failed, when not accepted (graphs/failure_side.py)
