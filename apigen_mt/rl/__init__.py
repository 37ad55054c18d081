"""Verified tasks as RL environments (optional extra `rl`).

    import gymnasium, apigen_mt.rl
    env = gymnasium.make("apigen_mt/retail-v0", tasks="tasks.json", out="apigen-runs")

Importing this package registers `apigen_mt/<domain>-v0` with Gymnasium for every
registered domain, and for each world folder in `$APIGEN_MT_WORLDS` (paths separated by
the OS path separator) under its folder name; `register_world(folder)` registers another.
The same episodes are served over MCP (`apigen-mt serve`, `apigen_mt.rl.mcp_server`), to
`verifiers` (`apigen_mt.rl.verifiers_env.load_environment`) and to TRL
(`apigen_mt.rl.trl_env.trl_environment_factory`). Nothing in the package below imports it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from apigen_mt.environments import domain_names
from apigen_mt.environments.worlds import is_world_path, world_key

from .episode import Action, Episode, EpisodeReward, parse_action
from .task_set import TaskSet, load_task_set

try:
    from .gym_env import ApigenMTEnv, env_id, register_domain_env
except ImportError as exc:  # pragma: no cover - depends on the extra
    raise ImportError(f"apigen_mt.rl needs gymnasium: pip install 'apigen-mt[rl]' ({exc})") from exc

WORLDS_ENV = "APIGEN_MT_WORLDS"


def register_world(folder: str | Path, name: str | None = None) -> str:
    """Register `apigen_mt/<name>-v0` (default: the folder's name) for a world folder."""
    if not is_world_path(folder):
        raise ValueError(f"{folder} is not a world folder (no world.toml)")
    key = world_key(folder)
    return register_domain_env(key, name or re.sub(r"[^\w.-]", "_", Path(key).name))


def register_envs() -> list[str]:
    """Register every domain's environment (done on import); returns their ids."""
    ids = [register_domain_env(d) for d in domain_names()]
    for folder in filter(None, os.environ.get(WORLDS_ENV, "").split(os.pathsep)):
        ids.append(register_world(folder))
    return ids


register_envs()

__all__ = [
    "Action",
    "ApigenMTEnv",
    "Episode",
    "EpisodeReward",
    "TaskSet",
    "env_id",
    "load_task_set",
    "parse_action",
    "register_envs",
    "register_world",
]
