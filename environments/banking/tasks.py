"""Hand-written banking tasks (τ-bench's task shape), written against seed 0's data.

Loaded by `TASKS` (and `tasks.json` beside this file, for `apigen-mt eval --tasks`).
"""

from __future__ import annotations

import json
from pathlib import Path

TASKS: list[dict] = json.loads(Path(__file__).with_name("tasks.json").read_text())
