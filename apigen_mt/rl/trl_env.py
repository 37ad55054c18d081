"""Verified tasks as a TRL environment: `GRPOTrainer(environment_factory=...)`.

    factory = trl_environment_factory("retail", "tasks.json", data_dir=...)
    trainer = GRPOTrainer(model=..., environment_factory=factory,
                          train_dataset=trl_dataset(factory), reward_funcs=[], args=...)

TRL makes one environment per rollout, calls `reset(**row)` with the dataset row (its
`task_index` picks the task; the user's opening message it returns is appended to the
prompt), exposes the public methods as tools (the domain's, with their descriptions and
typed arguments, plus `send_message` to talk to the simulated user), and scores a rollout
with `get_reward()`: the verifier's reward (components in `last_reward`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .episode import Episode, EpisodeReward
from .gym_env import run_sync
from .signatures import tool_function
from .task_set import TaskSet, load_task_set
from .user import ConfiguredRoles


class TrlEpisodeEnvironment:
    """The base of each domain's TRL environment class (its tools are added per domain)."""

    task_set: TaskSet
    options: dict[str, Any]

    def __init__(self) -> None:
        o = self.options
        self._roles = ConfiguredRoles(user=o.get("user"))
        self._episode = Episode(
            self.task_set,
            roles=self._roles,
            protocol=o.get("protocol", "apigen"),
            max_steps=o.get("max_steps"),
        )
        self._loop = asyncio.new_event_loop()
        self.last_reward: EpisodeReward | None = None

    def reset(self, task_index: int = 0, **row: Any) -> str:
        """A new episode on the row's task; the user's opening message."""
        self.last_reward = None
        return run_sync(self._loop, self._episode.reset(int(task_index)))

    def send_message(self, text: str) -> str:
        """Send a message to the customer and get their reply.

        Args:
            text: What to say to the customer.

        Returns:
            The customer's reply (it contains ###STOP### when they are done).
        """
        if self._episode.done:
            return f"The conversation has ended ({self._episode.ended_by})."
        return run_sync(self._loop, self._episode.send_message(text))

    def get_reward(self) -> float:
        """The verifier's reward for the rollout (1.0: the gold state, outputs said)."""
        self.last_reward = run_sync(self._loop, self._episode.verify())
        return self.last_reward.reward

    def _call(self, name: str, arguments: dict[str, Any]) -> str:
        if self._episode.done:
            return f"Error: the conversation has ended ({self._episode.ended_by})"
        return self._episode.call_tool(name, arguments)


def trl_environment_factory(
    domain: str,
    tasks: str,
    *,
    out: str | None = None,
    data_dir: str | None = None,
    split: str | None = None,
    task_set: TaskSet | None = None,
    user: Any = None,
    protocol: str = "apigen",
    max_steps: int | None = None,
):
    """A zero-argument callable making a fresh environment (one per rollout), all over
    one task set. `user`: a chat model or a function (instruction, turns) -> reply; by
    default the human role's configured endpoint, as in `eval`."""
    task_set = task_set or load_task_set(domain, tasks, out=out, data_dir=data_dir, split=split)
    tools = task_set.env.domain.tools
    clash = {"reset", "send_message", "get_reward"} & set(tools.names)
    if clash:
        raise ValueError(f"the domain's tools {sorted(clash)} clash with the environment's")
    body: dict[str, Any] = {
        "task_set": task_set,
        "options": {"user": user, "protocol": protocol, "max_steps": max_steps},
    }
    for schema in tools.openai_schemas():
        body[schema["function"]["name"]] = tool_function(
            schema, TrlEpisodeEnvironment._call, method=True
        )
    name = "".join(p.capitalize() for p in task_set.env.domain.name.replace("-", "_").split("_"))
    cls = type(f"{name or 'World'}Environment", (TrlEpisodeEnvironment,), body)
    return cls  # the class itself is the zero-argument factory


def trl_dataset(factory) -> list[dict[str, Any]]:
    """Rows for `train_dataset` (`datasets.Dataset.from_list` them): the policy as the
    system prompt, an empty user turn the opening message is appended to, the task index
    `reset` reads, and the task's measured pass rate (for a curriculum)."""
    task_set: TaskSet = factory.task_set
    policy = task_set.env.domain.policy
    return [
        {
            "prompt": [
                {"role": "system", "content": policy},
                {"role": "user", "content": ""},
            ],
            "task_index": i,
            "pass_rate": t.get("pass_rate"),
        }
        for i, t in enumerate(task_set.tasks)
    ]
