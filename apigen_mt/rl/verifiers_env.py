"""Verified tasks as a `verifiers` (v1 API, 0.4) environment: a taskset and an env whose
episodes run on our sandbox, with our simulated user and our verifier's reward.

    import verifiers.v1 as vf
    from apigen_mt.rl.verifiers_env import load_environment
    env = load_environment(domain="retail", tasks="tasks.json", data_dir="...")

verifiers finds plugins by a top-level module name; importing this module registers it
under the taskset id `apigen_mt_verifiers` (an alias in `sys.modules`), so verifiers' own
loaders and eval runner take `{"taskset": {"id": "apigen_mt_verifiers", "domain": ...}}`
in the same process.

As in verifiers' own OpenEnv and TextArena tasksets, the environment plays the world
host-side: the policy (`player`, on verifiers' tool-less `null` harness) is shown the
domain's policy and tool schemas, and answers each turn with one action as JSON —
`{"tool": NAME, "arguments": {...}}` — or plain text for the customer. A tool action's
result, or the customer's reply, comes back as the next user turn; the episode ends when
the customer stops or transfers, or at the step limit. The trace's reward is
`apigen_reward` (1.0: the gold state and outputs; τ²'s reward for τ² tasks), with its
components in `trace.info["reward_components"]`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from functools import cache

import verifiers.v1 as vf

from .episode import Episode
from .task_set import TaskSet, load_task_set
from .user import ConfiguredRoles

TASKSET_ID = "apigen_mt_verifiers"

SYSTEM = """You are a customer support agent. Follow the policy below.

Each of your replies is exactly one action:
- to use a tool, reply with only a JSON object {{"tool": NAME, "arguments": {{...}}}};
- to talk to the customer, reply with plain text.
A tool's result or the customer's reply comes back as the next message.

<policy>
{policy}
</policy>

<tools>
{tools}
</tools>"""


class ApigenTasksetConfig(vf.TasksetConfig):
    domain: str = ""
    """A registered domain, or a world folder's path."""
    tasks: str = ""
    """A task file (τ-bench's or τ²'s format) or a generation run's id in `out`."""
    out: str | None = None
    data_dir: str | None = None
    split: str | None = None
    min_pass_rate: float | None = None
    max_pass_rate: float | None = None
    protocol: str = "apigen"
    """The simulated user: apigen (ours) or tau2 (τ²'s simulator)."""
    max_steps: int | None = None


class ApigenTaskData(vf.TaskData):
    task_index: int
    """The task's place in the task set (what the episode resets to)."""
    source: str
    pass_rate: float | None = None
    pass_rate_model: str | None = None


class ApigenTask(vf.Task[ApigenTaskData]):
    pass


@cache
def _task_set(config_json: str) -> TaskSet:
    """One task set per configuration in a process (its database, its gold states)."""
    c = json.loads(config_json)
    loaded = load_task_set(
        c["domain"], c["tasks"], out=c["out"], data_dir=c["data_dir"], split=c["split"]
    )
    return loaded.filtered(c["min_pass_rate"], c["max_pass_rate"])


def _key(config: ApigenTasksetConfig) -> str:
    fields = ("domain", "tasks", "out", "data_dir", "split", "min_pass_rate", "max_pass_rate")
    return json.dumps({f: getattr(config, f) for f in fields}, sort_keys=True)


class ApigenTaskset(vf.Taskset[ApigenTask, ApigenTasksetConfig]):
    def load(self) -> Iterator[ApigenTask]:
        if not self.config.domain or not self.config.tasks:
            raise ValueError("the apigen-mt taskset needs domain= and tasks=")
        task_set = _task_set(_key(self.config))
        domain = task_set.env.domain
        system = SYSTEM.format(
            policy=domain.policy, tools=json.dumps(domain.tools.openai_schemas(), indent=1)
        )
        for index, task in enumerate(task_set.tasks):
            yield ApigenTask(
                ApigenTaskData(
                    name=task["source"],
                    prompt=None,  # the customer opens: the env's first turn
                    system_prompt=system,
                    task_index=index,
                    source=task["source"],
                    pass_rate=task.get("pass_rate"),
                    pass_rate_model=task.get("pass_rate_model"),
                ),
                self.config.task,
            )


class ApigenEnvConfig(vf.EnvConfig):
    player: vf.AgentConfig = vf.AgentConfig(harness={"id": "null"}, runtime=vf.SubprocessConfig())
    """The policy under training or evaluation: verifiers' tool-less chat loop, run as a
    local subprocess (the world itself runs in this process); pin another runtime with
    `player={"runtime": ...}`."""


class ApigenEnv(vf.Env[ApigenEnvConfig]):
    async def run(self, task, agents):
        config: ApigenTasksetConfig = self.taskset.config
        task_set = _task_set(_key(config))
        roles = ConfiguredRoles()
        episode = Episode(
            task_set,
            roles=roles,
            protocol=config.protocol,
            max_steps=config.max_steps,
        )
        try:
            opening = await episode.reset(task.data.task_index)
            async with agents.player.interaction(task) as interaction:
                segment = await interaction.turn(opening or "(the customer said nothing)")
                while not segment.terminated and not episode.done:
                    observation = await episode.act(segment.last_reply)
                    if episode.done:
                        break
                    segment = await interaction.turn(observation or "(no reply)")
            result = await episode.verify()
        finally:
            episode.close()
            roles.close()
        trace = interaction.trace
        trace.record_reward("apigen_reward", result.reward, 1.0)
        trace.info["reward_components"] = result.components
        trace.info["ended_by"] = episode.ended_by


def load_environment(**taskset: object) -> ApigenEnv:
    """The environment for `verifiers`, from the taskset's options (domain, tasks, out,
    data_dir, split, min_pass_rate, max_pass_rate, protocol, max_steps)."""
    return vf.load_environment(
        ApigenEnvConfig(taskset={"id": TASKSET_ID, **taskset})  # type: ignore[arg-type]
    )


__all__ = ["ApigenEnv", "ApigenTaskset", "load_environment"]

sys.modules.setdefault(TASKSET_ID, sys.modules[__name__])
