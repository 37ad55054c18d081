"""τ²-bench compatibility: its database files and hash, its task files, its rewards.

τ²'s retail and airline (domains `tau2-retail`, `tau2-airline`) share our v1 tables; what
differs is here and in each domain's `tools.py`: τ²'s data is one `db.json` per domain,
its state hash is sha256 of the sorted JSON dump of its pydantic database, and its tasks
carry their own evaluation criteria (`reward_basis`).
"""

from .data import Tau2Adapter, tau2_data_dir, tau2_hash
from .tasks import Tau2Task, is_tau2_task_file, load_tau2_tasks, render_scenario

__all__ = [
    "Tau2Adapter",
    "Tau2Task",
    "is_tau2_task_file",
    "load_tau2_tasks",
    "render_scenario",
    "tau2_data_dir",
    "tau2_hash",
]
