"""Gymnasium environments over verified tasks: `apigen_mt/<domain>-v0`.

    env = gymnasium.make("apigen_mt/retail-v0", tasks="tasks.json", out="apigen-runs")
    observation, info = env.reset(options={"task_index": 0})   # the user's opening message
    observation, reward, terminated, truncated, info = env.step(
        {"tool": "get_user_details", "arguments": {"user_id": "..."}})
    ... env.step({"message": "Your order is cancelled."})      # the user's reply

`tasks`, `out`, `data_dir` and `split` mean what they mean for `apigen-mt eval`. The
simulated user is the `human` role's configured endpoint (APIGEN_MT_HUMAN_*, as in
`eval`; the embedded model when none is configured), or `user=`: a chat model or a
function (instruction, turns) -> reply. The reward is 0 until the episode ends, then the
verifier's, with its components in `info["reward_components"]`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, ClassVar

import gymnasium as gym

from .episode import Episode, UserFn
from .task_set import TaskSet, load_task_set
from .user import ConfiguredRoles

NAMESPACE = "apigen_mt"


class TextSpace(gym.spaces.Space):
    """Any text (a conversation, a tool result)."""

    def __init__(self, seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str)

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        return ""

    @property
    def is_np_flattenable(self) -> bool:
        return False


class ActionSpace(gym.spaces.Space):
    """`{"tool": NAME, "arguments": {...}}` or `{"message": TEXT}` (or either as JSON)."""

    def __init__(self, tools: list[str], seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.tools = tools

    def contains(self, x: Any) -> bool:
        if isinstance(x, str):
            return True
        if not isinstance(x, dict):
            return False
        return isinstance(x.get("message"), str) or x.get("tool") in self.tools

    def sample(self, mask: Any = None, probability: Any = None) -> dict[str, Any]:
        """A random read of a random tool with no arguments (an error observation as
        often as not: exploration, not a policy)."""
        return {"tool": self.tools[int(self.np_random.integers(len(self.tools)))], "arguments": {}}

    @property
    def is_np_flattenable(self) -> bool:
        return False


class ApigenMTEnv(gym.Env):
    """One episode at a time over a task set; `reset(options={"task_index": i})` picks
    the task (a random one, from the env's generator, without it)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        domain: str,
        tasks: str | None = None,
        out: str | None = None,
        data_dir: str | None = None,
        split: str | None = None,
        *,
        task_set: TaskSet | None = None,
        user: Any = None,
        protocol: str = "apigen",
        max_steps: int | None = None,
        best_of_n: int = 1,
        seed: int = 0,
        min_pass_rate: float | None = None,
        max_pass_rate: float | None = None,
        render_mode: str | None = None,
    ):
        self._own_set = task_set is None  # a task set the caller gave stays open on close()
        if task_set is None:
            if tasks is None:
                raise ValueError("give tasks= (a task file or a run id under out=)")
            task_set = load_task_set(domain, tasks, out=out, data_dir=data_dir, split=split)
        self.task_set = task_set.filtered(min_pass_rate, max_pass_rate)
        if not len(self.task_set):
            raise ValueError("no task has a pass rate in the range asked")
        self.render_mode = render_mode
        self._roles = ConfiguredRoles(user=user, judge=best_of_n > 1)
        domain_ = self.task_set.env.domain
        self.tool_schemas = domain_.tools.openai_schemas()
        self.policy = domain_.policy
        self._protocol, self._max_steps = protocol, max_steps
        self._best_of_n, self._seed = best_of_n, seed
        self.observation_space = TextSpace()
        self.action_space = ActionSpace(domain_.tools.names)
        self.episode: Episode | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- Gymnasium API -----------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        index = options.get("task_index")
        if index is None:
            index = int(self.np_random.integers(len(self.task_set)))
        if self.episode is None:
            self.episode = self._new_episode()
        opening = self._run(self.episode.reset(index))
        task = self.episode.task
        info = {
            "tools": self.tool_schemas,
            "policy": self.policy,
            "task_index": index,
            "task_id": task.get("source", ""),
            "pass_rate": task.get("pass_rate"),
            "pass_rate_model": task.get("pass_rate_model"),
        }
        if self.episode.done:  # the user failed (or stopped) before saying anything
            info["ended_by"] = self.episode.ended_by
        return opening, info

    def step(self, action: Any):
        if self.episode is None or self.episode.index is None:
            raise RuntimeError("call reset() before step()")
        episode = self.episode
        observation = self._run(episode.act(action))
        info: dict[str, Any] = {"task_index": episode.index, "steps": episode.steps}
        reward = 0.0
        if episode.done:
            verdict = self._run(episode.verify())
            reward = verdict.reward
            info.update(
                ended_by=episode.ended_by,
                reason=episode.reason,
                reward_components=verdict.components,
            )
        return observation, reward, episode.terminated, episode.truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.episode is None:
            return None
        from apigen_mt.graphs.tau2_reward import render_conversation

        return render_conversation(self.episode.messages)

    def close(self) -> None:
        if self.episode is not None:
            self.episode.close()
        self._roles.close()
        if self._loop is not None:
            self._loop.close()
            self._loop = None
        if self._own_set:
            self.task_set.close()
        super().close()

    # ---- private -----------------------------------------------------------------
    def _new_episode(self) -> Episode:
        return Episode(
            self.task_set,
            roles=self._roles,
            protocol=self._protocol,
            max_steps=self._max_steps,
            best_of_n=self._best_of_n,
            seed=self._seed,
        )

    def _run(self, coro):
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return run_sync(self._loop, coro)


def run_sync(loop: asyncio.AbstractEventLoop, coro):
    """Run a coroutine to its end from synchronous code, on `loop` (also inside a
    notebook, whose thread already runs an event loop: then on a worker thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return loop.run_until_complete(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def env_id(domain: str) -> str:
    return f"{NAMESPACE}/{domain}-v0"


def register_domain_env(domain: str, name: str | None = None) -> str:
    """Register `apigen_mt/<name>-v0` for a domain (a registered name, or a world folder's
    path with `name` its id); returns the id. Registering again is harmless."""
    key = env_id(name or domain)
    if key not in gym.registry:
        gym.register(id=key, entry_point=ApigenMTEnv, kwargs={"domain": domain})
    return key


__all__ = ["ActionSpace", "ApigenMTEnv", "TextSpace", "UserFn", "env_id", "register_domain_env"]
