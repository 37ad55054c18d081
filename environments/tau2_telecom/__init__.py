"""τ²-bench's telecom (`tau2-telecom`): dual control. The agent has 13 tools over the
carrier's records (customers, lines, plans, bills, devices); the user has 30 over their
own phone (airplane mode, SIM, mobile data, APN settings, app permissions, paying a bill).
Both sides live in one sandbox (`records.py`); `sync.py` keeps them in step after every
call, as τ²'s `TelecomEnvironment.sync_tools` does.

Data: τ²'s `db.toml` and `user_db.toml` (`--data-dir`, the task file's folder or
`$TAU2_DATA_DIR`); there is no generator, so the domain needs τ²'s data. Phase 1 starts
each attempt from a scene composed from the folder's train split (`phase1.py`).
Policy: τ²'s `main_policy.md` and `tech_support_manual.md` (MIT, Copyright (c) 2025 Sierra
Research), joined as τ²'s `get_environment` joins them, byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apigen_mt.tools import ToolSet

from ..registry import Domain, TaskHooks, register_domain
from ..rules import RuleSet
from . import phase1
from .phone import USER_TOOLS
from .records import SCHEMA, export_db, export_user_db, import_db, pydantic_hash, read_toml
from .scenes import FUNCTIONS, USER_FUNCTIONS
from .sync import sync
from .tools import TOOLS


class TelecomTau2:
    """τ²'s telecom files <-> the sandbox's tables; τ²'s two hashes."""

    tau2_name = "telecom"
    db_file = "db.toml"
    RECORD_OF: dict[str, tuple[tuple[str, str], ...]] = {}  # noqa: RUF012 - hashed whole

    def read(self, folder: Path) -> dict[str, Any]:
        return {"db": read_toml(folder, "db.toml"), "user_db": read_toml(folder, "user_db.toml")}

    def import_db(self, db, data: dict[str, Any]) -> None:
        import_db(db, data["db"], data["user_db"])

    def export_db(self, db) -> dict[str, Any]:
        return export_db(db)

    def export_records(self, db, collection: str, ids: list[str]) -> dict[str, Any]:
        raise NotImplementedError("telecom's τ² hash dumps the whole database")

    def db_hash(self, db) -> str:
        return pydantic_hash(export_db(db))

    def user_db_hash(self, db) -> str:
        return pydantic_hash(export_user_db(db))


def _no_generator(db, seed: int) -> None:
    raise ValueError(
        "tau2-telecom has no generated data: give τ²'s telecom folder (--data-dir, or "
        "$TAU2_DATA_DIR)"
    )


DOMAIN = register_domain(
    Domain(
        name="tau2-telecom",
        description="τ²-bench's telecom technical support (dual control): the agent reads and "
        "changes the carrier's records, the user acts on their own phone.",
        schema=SCHEMA,
        tools=ToolSet.of(TOOLS),
        rules=RuleSet([]),
        generate=_no_generator,
        policy_path=Path(__file__).with_name("policy.md"),
        data_version="1",
        tau2=TelecomTau2(),
        user_tools=ToolSet.of(USER_TOOLS),
        functions={"assistant": FUNCTIONS, "user": USER_FUNCTIONS},
        sync=sync,
        tasks=TaskHooks(
            sample_records=phase1.sample_records,
            sample_calls=lambda db: [],
            seed_examples=phase1.seed_examples,
            id_choices=phase1.id_choices,
            sample_scene=phase1.sample_scene,
        ),
    )
)
