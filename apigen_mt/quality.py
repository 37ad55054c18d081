"""Quality figures of a run's dataset: what a person checks before training on it.

Over the run's tasks (accepted blueprints, recombined ones included) and its accepted,
unique dialogues: which tools the gold actions use, how many writes a task has, how long
the conversations are (beside the APIGen-MT paper's figures), how the personas spread,
exact and near duplicates, and distinct-n of the instructions.

Near-duplicates are MinHash estimates (datasketch) of the Jaccard similarity of word
3-shingles of two instructions; two instructions at or above the threshold are near
duplicates. Without the `quality` extra, the figure is reported as unavailable.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, Field

from apigen_mt.agents import is_stop

NEAR_DUPLICATE_THRESHOLD = 0.8  # Jaccard of word 3-shingles, as MinHash estimates it
SHINGLE = 3
NUM_PERM = 128
# APIGen-MT-5k as the paper describes it: per trajectory about 7 tool calls and 6 user
# turns, conversations of 1 to 29 turns.
PAPER = {"tool_calls_mean": 7.0, "user_turns_mean": 6.0, "turns_min": 1, "turns_max": 29}


class Distribution(BaseModel):
    count: int = 0
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    values: list[float] = Field(default_factory=list, exclude=True)  # for histograms

    @classmethod
    def of(cls, values: Iterable[float]) -> Distribution:
        values = list(values)
        if not values:
            return cls()
        return cls(
            count=len(values),
            mean=round(sum(values) / len(values), 2),
            min=min(values),
            max=max(values),
            values=values,
        )


class NearDuplicates(BaseModel):
    available: bool
    threshold: float
    count: int = 0  # instructions near-duplicating an earlier one
    examples: list[tuple[str, str]] = []


class QualityReport(BaseModel):
    tasks: int
    dialogues: int
    tool_calls: dict[str, int]  # gold actions per tool, most used first
    tools_unused: list[str]
    writes_per_task: Distribution
    user_turns: Distribution
    agent_tool_calls: Distribution
    turns: Distribution  # user and agent messages, tool results not counted
    paper: dict[str, float]
    personas: dict[str, int]
    exact_duplicates: int  # tasks with the same user and action multiset as an earlier one
    near_duplicates: NearDuplicates
    distinct: dict[str, float]  # distinct-1/2/3 of the instructions


def quality_report(
    tasks: list[dict[str, Any]],
    transcripts: list[list[BaseMessage]],
    tool_names: list[str],
    write_names: list[str],
    *,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> QualityReport:
    """`tasks`: the task records (instruction, user_id, actions, persona); `transcripts`:
    the accepted unique dialogues."""
    actions = [a for t in tasks for a in t.get("actions", [])]
    calls = Counter(a["name"] for a in actions)
    instructions = [t.get("instruction", "") for t in tasks]
    seen, exact = set(), 0
    for t in tasks:
        key = (t.get("user_id"), tuple(sorted(_action_key(a) for a in t.get("actions", []))))
        exact += key in seen
        seen.add(key)
    stats = [_dialogue_stats(m) for m in transcripts]
    return QualityReport(
        tasks=len(tasks),
        dialogues=len(transcripts),
        tool_calls=dict(calls.most_common()),
        tools_unused=[n for n in tool_names if n not in calls],
        writes_per_task=Distribution.of(
            sum(a["name"] in write_names for a in t.get("actions", [])) for t in tasks
        ),
        user_turns=Distribution.of(s[0] for s in stats),
        agent_tool_calls=Distribution.of(s[1] for s in stats),
        turns=Distribution.of(s[2] for s in stats),
        paper=PAPER,
        personas=dict(Counter(_persona_label(t.get("persona", "")) for t in tasks).most_common()),
        exact_duplicates=exact,
        near_duplicates=near_duplicates(instructions, threshold),
        distinct={f"distinct_{n}": distinct_n(instructions, n) for n in (1, 2, 3)},
    )


def near_duplicates(texts: list[str], threshold: float) -> NearDuplicates:
    try:
        keep = NearDuplicateFilter(threshold)
    except RuntimeError:
        return NearDuplicates(available=False, threshold=threshold)
    count, examples, first_of = 0, [], {}
    for i, text in enumerate(texts):
        match = keep.match(str(i), text)
        if match is None:
            first_of[str(i)] = text
        else:
            count += 1
            if len(examples) < 5:
                examples.append((first_of[match], text))
    return NearDuplicates(available=True, threshold=threshold, count=count, examples=examples)


class NearDuplicateFilter:
    """Keeps texts that are not near duplicates of one kept before (MinHash LSH)."""

    def __init__(self, threshold: float = NEAR_DUPLICATE_THRESHOLD):
        if not 0 < threshold <= 1:
            raise ValueError(f"a near-duplicate threshold is in (0, 1], got {threshold}")
        try:
            from datasketch import MinHashLSH
        except ImportError:
            raise RuntimeError(
                "near-duplicate detection needs datasketch: pip install 'apigen-mt[quality]'"
            ) from None
        self.threshold = threshold
        # LSH finds candidates (its banding cannot express 1.0: exact shingle sets then);
        # each candidate is confirmed by its estimated Jaccard, so none below the threshold.
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM) if threshold < 1 else None
        self._kept: dict[str, Any] = {}  # key -> MinHash signature (LSH)
        self._exact: dict[frozenset[str], str] = {}  # shingle set -> key (threshold 1.0)

    def match(self, key: str, text: str) -> str | None:
        """The key of a kept text this one near-duplicates, or None (and it is kept)."""
        from datasketch import MinHash

        shingles = frozenset(_shingles(text))
        if self._lsh is None:
            if shingles in self._exact:
                return self._exact[shingles]
            self._exact[shingles] = key
            return None
        signature = MinHash(num_perm=NUM_PERM, seed=1)
        for shingle in shingles:
            signature.update(shingle.encode("utf-8"))
        close = [
            k
            for k in self._lsh.query(signature)
            if signature.jaccard(self._kept[k]) >= self.threshold
        ]
        if close:
            return sorted(close)[0]
        self._lsh.insert(key, signature)
        self._kept[key] = signature
        return None


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the texts (0 when there are none)."""
    grams = [g for t in texts for g in _ngrams(_words(t), n)]
    return round(len(set(grams)) / len(grams), 4) if grams else 0.0


def plot_quality(report: QualityReport, directory: str | Path) -> list[Path]:
    """Histograms as PNGs (needs matplotlib): writes per task, user turns, tool calls per
    dialogue, and gold calls per tool."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plots need matplotlib: pip install 'apigen-mt[quality]'") from None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, dist, label in (
        ("writes_per_task", report.writes_per_task, "writes per task"),
        ("user_turns", report.user_turns, "user turns per accepted dialogue"),
        ("agent_tool_calls", report.agent_tool_calls, "tool calls per accepted dialogue"),
    ):
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
        values = dist.values or [0]
        ax.hist(values, bins=range(int(min(values)), int(max(values)) + 2), edgecolor="white")
        ax.set(xlabel=label, ylabel="count", title=f"{label} (n={dist.count}, mean {dist.mean})")
        fig.tight_layout()
        paths.append(directory / f"{name}.png")
        fig.savefig(paths[-1])
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    names = list(report.tool_calls) + report.tools_unused
    ax.barh(names, [report.tool_calls.get(n, 0) for n in names])
    ax.invert_yaxis()
    ax.set(xlabel="gold calls", title="tool coverage of accepted tasks")
    fig.tight_layout()
    paths.append(directory / "tool_coverage.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths


def _dialogue_stats(messages: list[BaseMessage]) -> tuple[int, int, int]:
    users = [m for m in messages if isinstance(m, HumanMessage) and not is_stop(str(m.content))]
    agents = [m for m in messages if isinstance(m, AIMessage)]
    return len(users), sum(len(m.tool_calls) for m in agents), len(users) + len(agents)


def _action_key(action: dict[str, Any]) -> str:
    return json.dumps([action.get("name"), action.get("arguments", {})], sort_keys=True)


def _persona_label(persona: str) -> str:
    """Who the persona is ("a night-shift nurse"), without how they talk."""
    who = persona.strip().split(" who ", 1)[0].split(".")[0].strip()
    return (who[:60] + "…") if len(who) > 60 else who or "(none)"


def _words(text: str) -> list[str]:
    return re.findall(r"[\w#'-]+", text.lower())


def _ngrams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def _shingles(text: str) -> set[str]:
    words = _words(text)
    grams = _ngrams(words, SHINGLE) or [tuple(words)]
    return {" ".join(g) for g in grams}
