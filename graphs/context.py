"""Run-time configuration of the phase-1 graphs (LangGraph `context_schema`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from apigen_mt.agents import Assistant, make_assistant
from apigen_mt.agents.tau2_user import tau2_agent_system
from apigen_mt.environments import Environment
from apigen_mt.tools.api_graph import ApiGraph

from .sampling import ExamplePool, api_graph_of, example_pool_of


class BlueprintStore(Protocol):
    """Where full records live (apigen_mt.store.RunStore implements it)."""

    def save_context(self, run_id: str, attempt: int, data: dict[str, Any]) -> str: ...
    def context(self, context_id: str) -> dict[str, Any]: ...
    def context_of_attempt(self, run_id: str, attempt: int) -> dict[str, Any] | None: ...
    def save_blueprint(self, **kwargs: Any) -> str: ...
    def update_blueprint(self, blueprint_id: str, **values: Any) -> None: ...
    def blueprint(self, blueprint_id: str) -> dict[str, Any]: ...
    def save_review(self, blueprint_id: str, reviewer: str, ok: bool, data: dict) -> str: ...
    def reviews(self, blueprint_id: str) -> list[dict[str, Any]]: ...
    def save_feedback(self, blueprint_id: str, plan: str) -> str: ...
    def feedback(self, blueprint_id: str) -> str | None: ...


@dataclass
class BlueprintContext:
    env: Environment
    store: BlueprintStore
    proposer: BaseChatModel
    reviewers: list[BaseChatModel]  # committee models, cycled over `committee_size` judges
    feedback: BaseChatModel
    recombiner: BaseChatModel | None = None
    committee_size: int = 3
    threshold: int = 3  # of 4 criteria, after a majority vote per criterion
    max_rounds: int | None = None  # None: the domain's default (retail 3, airline 5)
    run_id: str = "run"
    seed: int = 0
    user_pool: list[str] | None = None  # the run's users (sampling.user_pool); None: any
    graph: ApiGraph | None = None  # built from the environment when None
    examples: ExamplePool | None = field(default=None)
    # Where attempts are, for a progress display: (attempt, round, stage); stage "" = done.
    on_stage: Callable[[int, int, str], None] | None = None

    def __post_init__(self) -> None:
        if self.graph is None:
            self.graph = api_graph_of(self.env)
        if self.examples is None:
            self.examples = example_pool_of(self.env)
        if self.committee_size < 1 or not self.reviewers:
            raise ValueError("the committee needs at least one reviewer model")
        if not 0 <= self.threshold <= 4:
            raise ValueError("threshold counts criteria: 0 to 4")

    @property
    def rounds_limit(self) -> int:
        return self.max_rounds or self.env.domain.max_feedback_rounds


@dataclass
class DialogueContext:
    """Run-time configuration of the phase-2 dialogue graph."""

    env: Environment
    store: Any  # apigen_mt.store.RunStore: tasks, turns, trajectories
    human: BaseChatModel
    assistant: BaseChatModel
    judge: BaseChatModel | None = None  # scores best-of-N candidates; None: first usable
    nl_judge: BaseChatModel | None = None  # grades τ² tasks' NL assertions
    # `--request-judge`: asks, every user turn, whether the user wants something its
    # instruction does not contain (a call per turn; None: off)
    request_judge: BaseChatModel | None = None
    # "tau2": τ²'s user simulator (these guidelines), greeting, agent prompt, stop tokens,
    # steps (every message) and error limit, as `eval --protocol tau2` runs them.
    protocol: str = "apigen"
    tau2_guidelines: str = ""
    max_errors: int = 10  # tool errors before a τ²-protocol episode is cut off
    best_of_n: int = 4
    max_steps: int = 30  # agent actions (tool calls, replies), as τ-bench counts steps
    max_resamples: int = 3  # extra rounds of candidates when none is usable
    seed: int = 0  # breaks the judge's ties between equally scored user replies
    sandboxes: dict[str, Any] = field(default_factory=dict)  # episode sandboxes, by id
    # Running episodes' transcripts and tasks, so a turn does not reload them from the store
    # (which still receives every message as it is said: it holds the record).
    live: dict[str, list[BaseMessage]] = field(default_factory=dict, repr=False)
    live_tasks: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    # Each running episode's user-fidelity records, one per user turn (saved with it).
    fidelity: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.best_of_n < 1 or self.max_steps < 1:
            raise ValueError("best_of_n must be >= 1 and max_steps >= 1")

    def transcript(self, episode_id: str) -> list[BaseMessage]:
        """The episode's messages so far (a copy)."""
        messages = self.live.get(episode_id)
        if messages is None:
            messages = self.live[episode_id] = self.store.transcript(episode_id)
        return list(messages)

    def last_message(self, episode_id: str) -> BaseMessage:
        messages = self.live.get(episode_id)
        return messages[-1] if messages else self.transcript(episode_id)[-1]

    def say(self, episode_id: str, messages: list[BaseMessage]) -> None:
        """Record messages in the store and in the live transcript."""
        known = self.live.get(episode_id)
        self.store.append_turns(episode_id, messages, start=None if known is None else len(known))
        if known is not None:
            known.extend(messages)

    def task(self, task_id: str) -> dict[str, Any]:
        task = self.live_tasks.get(task_id)
        if task is None:
            task = self.live_tasks[task_id] = self.store.task(task_id)
        return task

    def forget(self, episode_id: str, task_id: str) -> None:
        """Drop an ended episode's live state (its task too, reread by a later episode)."""
        self.live.pop(episode_id, None)
        self.live_tasks.pop(task_id, None)
        self.fidelity.pop(episode_id, None)

    @cached_property
    def agent(self) -> Assistant:
        """The assistant role with the domain's policy and tools bound (built once)."""
        domain = self.env.domain
        system = tau2_agent_system(domain.policy) if self.protocol == "tau2" else None
        return make_assistant(self.assistant, domain.policy, domain.tools.openai_schemas(), system)
