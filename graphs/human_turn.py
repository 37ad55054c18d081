"""One simulated-user turn: best-of-N candidates, judged, with guards against known
simulator failures (empty replies, stopping before answering a confirmation request,
pasting the instruction)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel

from apigen_mt.agents import (
    HumanInput,
    JudgeInput,
    JudgeScores,
    Turn,
    is_stop,
    make_human,
    make_human_judge,
)
from apigen_mt.agents.acting_user import is_user_side

from .user_fidelity import (
    ANY_WRITES,
    awaiting_write_confirmation,
    invented_facts,
    premature_stop,
)

LEAK_WINDOW = 12  # words copied verbatim from the instruction count as a leak
LEAK_PENALTY = 5


class Candidate(BaseModel):
    text: str
    score: int | None = None
    note: str = ""
    check: str = ""  # the fidelity check that rejected it (FIDELITY_CHECKS), if one did


class HumanChoice(BaseModel):
    text: str | None  # None: no usable reply
    candidates: list[Candidate]
    samples: int
    failure: str = ""
    flags: list[str] = []  # counted, not rejected, on the reply sent ("copied_instruction")

    def fidelity(self) -> dict[str, Any]:
        """This turn's record: the checks that rejected candidates, and the sent reply's."""
        rejected = Counter(c.check for c in self.candidates if c.check)
        return {"rejected": dict(rejected), "flags": self.flags, "sent": self.text is not None}


# What the user-fidelity checks are called in records and reports.
FIDELITY_CHECKS = (
    "empty_reply",
    "stop_while_confirming",
    "invented_fact",
    "premature_stop",
    "copied_instruction",
)


@dataclass(frozen=True)
class UserChecks:
    """What the fidelity checks need from the episode: the domain's write tools, the gold
    actions and the sandbox's trace so far (read when a candidate is checked)."""

    write_names: tuple[str, ...]
    gold_actions: list[dict[str, Any]]
    trace: list[Any]


def user_view(messages: list[BaseMessage]) -> list[Turn]:
    """What the user has seen: their own messages and the agent's words (also the words an
    agent writes beside its tool calls, as a chat shows them), not tool traffic."""
    turns = []
    for m in messages:
        if is_user_side(m):  # the user's own tool traffic (dual control)
            continue
        if isinstance(m, HumanMessage):
            turns.append(Turn(speaker="user", text=str(m.content)))
        elif isinstance(m, AIMessage) and m.text.strip():
            turns.append(Turn(speaker="agent", text=m.text))
    return turns


def awaiting_confirmation(turns: list[Turn], write_names: tuple[str, ...] = ANY_WRITES) -> bool:
    """The agent's last words ask the user to confirm a write (of `write_names`, a domain's
    write tools; by default any common write verb): user_fidelity's stop guard on turns."""
    if not turns or turns[-1].speaker != "agent":
        return False
    return awaiting_write_confirmation(turns[-1].text, write_names)


def leaks(candidate: str, instruction: str, window: int = LEAK_WINDOW) -> bool:
    words, text = instruction.lower().split(), " ".join(candidate.lower().split())
    return any(" ".join(words[i : i + window]) in text for i in range(len(words) - window + 1))


def check_reply(text: str, turns: list[Turn], x: HumanInput, checks: UserChecks | None):
    """(check, why) a candidate must be resampled; ("", "") when it is usable."""
    if not text.strip():
        return "empty_reply", "empty reply"
    agent_last = turns[-1].text if turns and turns[-1].speaker == "agent" else ""
    stops = is_stop(text)
    confirming = awaiting_confirmation(turns, checks.write_names if checks else ANY_WRITES)
    if stops and confirming:
        return "stop_while_confirming", "stopped without answering the agent's confirmation request"
    if checks is None:
        return "", ""
    said = [t.text for t in turns if t.speaker == "agent"]
    invented = invented_facts(text, [x.instruction, x.persona, *said])
    if invented:
        return "invented_fact", f"states facts it was never given: {invented}"
    if stops:
        missing = premature_stop(
            checks.trace, checks.gold_actions, set(checks.write_names), agent_last
        )
        if missing:
            return "premature_stop", f"stopped before the task's writes happened: {missing}"
    return "", ""


async def human_turn(
    human_model,
    judge_model,
    instruction: str,
    persona: str,
    messages: list[BaseMessage],
    *,
    n: int = 4,
    max_resamples: int = 3,
    seed: int | str = 0,
    checks: UserChecks | None = None,
) -> HumanChoice:
    """One user turn: `n` candidates (resampled while none is usable), the judge scores the
    usable ones in one call, the best is sent; equal scores are broken by `seed` and the
    turn, so a rerun with the same seed sends the same reply."""
    human, turns = make_human(human_model), user_view(messages)
    x = HumanInput(instruction=instruction, persona=persona, transcript=turns)
    rejected: list[Candidate] = []
    usable: list[Candidate] = []
    samples = 0
    for _ in range(max_resamples + 1):
        replies = await asyncio.gather(*(human.ainvoke(x) for _ in range(n)))
        samples += n
        for reply in replies:
            if not isinstance(reply, str):
                rejected.append(Candidate(text="", note=str(reply)))
                continue
            check, why = check_reply(reply, turns, x, checks)
            (rejected if why else usable).append(Candidate(text=reply, note=why, check=check))
        if usable:
            break
    if not usable:
        return HumanChoice(
            text=None,
            candidates=rejected,
            samples=samples,
            failure=f"human: no usable reply in {samples} samples "
            f"({'; '.join(sorted({c.note for c in rejected}))})",
        )
    if len({c.text for c in usable}) > 1 and judge_model is not None:
        await _judge(judge_model, instruction, persona, turns, usable)
    top = max(c.score if c.score is not None else -1 for c in usable)
    tied = [c for c in usable if (c.score if c.score is not None else -1) == top]
    # (seeding a generator costs more than the rest of the turn's bookkeeping: only on a tie)
    best = (
        tied[0]
        if len(tied) == 1
        else random.Random(f"{seed}:{instruction}:{len(turns)}").choice(tied)
    )
    flags = ["copied_instruction"] if leaks(best.text, instruction) else []
    return HumanChoice(text=best.text, candidates=usable + rejected, samples=samples, flags=flags)


async def _judge(
    judge_model, instruction: str, persona: str, turns: list[Turn], candidates: list[Candidate]
) -> None:
    """Scores every candidate in one call; a failed call leaves them all at 0."""
    judge = make_human_judge(judge_model, len(candidates))
    transcript = (
        "\n".join(f"{t.speaker}: {t.text}" for t in turns) or "(the agent greeted the user)"
    )
    verdict = await judge.ainvoke(
        JudgeInput(
            instruction=instruction,
            persona=persona,
            transcript=transcript,
            candidates=[c.text for c in candidates],
        )
    )
    ok = isinstance(verdict, JudgeScores)
    scores = verdict.scores() if ok else [0] * len(candidates)
    for c, score in zip(candidates, scores, strict=True):
        c.score = score
        c.note = verdict.reasoning if ok else f"judge failed: {verdict}"
        if leaks(c.text, instruction):
            c.score = max(0, c.score - LEAK_PENALTY)
            c.note = f"penalised: copies the instruction verbatim. {c.note}"
