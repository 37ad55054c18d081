"""Accept a dialogue only if it reaches the gold state and says every expected output.

This is τ-bench's reward: the final database must equal the one the gold actions produce
(compared by state hash), and each expected output must occur, lower-cased, in some agent
message lower-cased with its commas removed.
"""

from __future__ import annotations

from pydantic import BaseModel

from apigen_mt.environments import Environment, Sandbox, render_diff
from apigen_mt.tools import ToolUnavailable


class Verdict(BaseModel):
    accepted: bool
    state_matches: bool
    missing_outputs: list[str]
    diff: list[dict]  # row-level: gold final state -> dialogue final state
    diff_text: str
    gold_failed_calls: int = 0
    state_hash: str = ""  # the episode's final state (stored with the trajectory)

    @property
    def reason(self) -> str:
        parts = []
        if not self.state_matches:
            parts.append(f"wrong final state:\n{self.diff_text}")
        if self.missing_outputs:
            parts.append(f"missing outputs: {self.missing_outputs}")
        return "; ".join(parts)


def outputs_said(outputs: list[str], agent_messages: list[str]) -> list[str]:
    """The expected outputs no agent message contains (τ-bench's exact test)."""
    contents = [m.lower().replace(",", "") for m in agent_messages]
    return [o for o in outputs if not any(o.lower() in c for c in contents)]


def gold_state_hash(env: Environment, gold_actions: list[dict], prepare=None) -> str:
    """The state hash the gold actions produce: computed once per task (tasks carry it as
    `gold_hash`), so each trial's verification need not replay them. `prepare` sets a
    fresh sandbox up first (a τ² task's initial state)."""
    with env.sandbox() as gold:
        if prepare is not None:
            prepare(gold)
        gold.run(gold_actions)
        return gold.state_hash()


def verify(
    env: Environment,
    episode: Sandbox,
    gold_actions: list[dict],
    outputs: list[str],
    agent_messages: list[str],
    gold_hash: str | None = None,
    prepare=None,
) -> Verdict:
    final = episode.state_hash()
    if gold_hash is not None and final == gold_hash:
        missing = outputs_said(outputs, agent_messages)
        return Verdict(
            accepted=not missing,
            state_matches=True,
            missing_outputs=missing,
            diff=[],
            diff_text="",
            state_hash=final,
        )
    # No hash, or a different state: replay the gold actions for the row-level diff.
    missing = outputs_said(outputs, agent_messages)
    try:
        with env.sandbox() as gold:
            if prepare is not None:
                prepare(gold)
            trace = gold.run(gold_actions)
            matches = gold.state_hash() == final
            changes = [] if matches else episode.diff(gold)
    except ToolUnavailable as exc:  # a world's tool server failed: no verdict on the state
        return Verdict(
            accepted=False,
            state_matches=False,
            missing_outputs=missing,
            diff=[],
            diff_text=f"(the gold replay could not be run: {exc})",
            state_hash=final,
        )
    return Verdict(
        accepted=matches and not missing,
        state_matches=matches,
        missing_outputs=missing,
        diff=[c.model_dump() for c in changes],
        diff_text=render_diff(changes),
        gold_failed_calls=sum(not e.ok for e in trace),
        state_hash=final,
    )
