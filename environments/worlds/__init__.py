"""Bring your own world: a folder with an SQLite database, a policy and the user's own tools
(plain Python functions or an MCP server) becomes a domain, with no domain code.

    myworld/
      world.toml      name, database, policy, tools (or [mcp]), user_table, ...
      app.sqlite      the initial state; never written to
      policy.md       the agent's policy
      tools.py        plain functions taking a sqlite3.Connection first
      tasks.json      optional: hand-written tasks in τ-bench's shape

`get_domain(PATH)` loads one; every command's `--domain` takes a path as well as a name.
"""

from .config import WORLD_FILE, WorldConfig, WorldError, load_config
from .load import World, is_world_path, load_world, load_world_domain, world_key

__all__ = [
    "WORLD_FILE",
    "World",
    "WorldConfig",
    "WorldError",
    "is_world_path",
    "load_config",
    "load_world",
    "load_world_domain",
    "world_key",
]
