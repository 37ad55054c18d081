"""One run across worker processes (`--workers N`) or a Ray cluster (`--ray`).

The run is split into shards: shard k owns the blueprint attempts of the pool users
that fall to it (a user's blueprints meet in one shard, so recombination finds parents)
and every k-th recombination slot. Each shard runs the ordinary pipeline, one batch at a
time, into its own SQLite store; the driver rebuilds the run in the run store from the
shards' completed copies, in one transaction, after each shard finishes.
"""

from .driver import ShardedRun, run_sharded
from .spec import ShardSpec

__all__ = ["ShardSpec", "ShardedRun", "run_sharded"]
