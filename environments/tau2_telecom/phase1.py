"""Phase-1 hooks of `tau2-telecom`: every attempt starts from a scene, a composition of
issues drawn from τ²'s *train* split (compose.py: never a τ² task, nor the issue set of a
test task, and proven fixable before it is drawn). The proposer is shown the customer's
records and the phone as the scene leaves them, and writes the instruction and the fix.

The task file is `tasks.json` (with `split_tasks.json`) in the domain's τ² folder, the
one the database came from (`--data-dir`, or `$TAU2_DATA_DIR`).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from ..scene import Scene
from .compose import Compositions, parse_id
from .records import load, load_all, phone, surroundings

MAX_DRAWS = 50  # candidates tried per attempt before giving up (about 1 in 8 is unprovable)
_CACHE: dict[Path, Compositions] = {}
_LOCK = threading.Lock()


def compositions_of(env) -> Compositions:
    """The compositions of the environment's τ² telecom folder (read once per folder)."""
    folder = getattr(env, "data_folder", None)
    tasks = Path(folder) / "tasks.json" if folder else None
    if tasks is None or not tasks.is_file() or not tasks.with_name("split_tasks.json").is_file():
        raise ValueError(
            "tau2-telecom proposes tasks on scenes composed from τ²'s telecom train split: "
            "its tasks.json and split_tasks.json must sit beside db.toml (--data-dir, or "
            f"$TAU2_DATA_DIR){f'; not in {folder}' if folder else ''}"
        )
    with _LOCK:
        if tasks not in _CACHE:
            _CACHE[tasks] = Compositions(tasks)
        return _CACHE[tasks]


def sample_scene(env, rng) -> Scene:
    compositions = compositions_of(env)
    for _ in range(MAX_DRAWS):
        task, problem = compositions.task(env, rng.choice(compositions.candidates))
        if not problem:
            return scene_of(task, compositions)
    raise ValueError(f"no provable telecom composition in {MAX_DRAWS} draws")


def scene_of(task: dict[str, Any], compositions: Compositions) -> Scene:
    _, issues, persona = parse_id(task["id"])
    setup = task["initial_state"]["initialization_actions"]
    instructions = task["user_scenario"]["instructions"]
    return Scene(
        id=task["id"],
        issues=issues,
        setup=setup,
        env_assertions=task["evaluation_criteria"]["env_assertions"],
        user_knows=_known(setup) or instructions.get("known_info") or "",
        reason_for_call=instructions.get("reason_for_call") or "",
        persona=next(
            (
                t["user_scenario"].get("persona")
                for t in compositions.catalogue.tasks
                if parse_id(t["id"])[2] == persona
            ),
            None,
        ),
    )


def _known(setup: list[dict[str, Any]]) -> str:
    """What the user knows, as τ²'s scenarios say it, from what the setup made true."""
    calls = {c["func_name"]: c.get("arguments") or {} for c in setup}
    info = calls.get("set_user_info")
    if not info:
        return ""
    text = f"You are {info['name']} with phone number {info['phone_number']}."
    if "set_user_location" in calls:
        abroad = calls["set_user_location"].get("abroad")
        text += (
            " You are currently abroad in France."
            if abroad
            else " You are currently at home in the United States."
        )
    return text


def sample_records(db, rng) -> tuple[str, str]:
    """The phone's owner (the customer with a line of the phone's number) and their
    records, with the phone as it is now; the first customer when the phone has no owner."""
    number = surroundings(db).phone_number
    customers = load_all(db, "customers")
    lines = {line.line_id: line for line in load_all(db, "lines")}
    owner = next(
        (
            c
            for c in customers
            if any(lines[i].phone_number == number for i in c.line_ids if i in lines)
        ),
        customers[0],
    )
    return owner.customer_id, records_for(db, owner.customer_id)


def records_for(db, customer_id: str) -> str:
    customer = load(db, "customers", customer_id)
    if customer is None:
        raise KeyError(customer_id)
    lines = [load(db, "lines", i) for i in customer.line_ids]
    lines = [line for line in lines if line is not None]
    plans = {line.plan_id for line in lines}
    devices = {line.device_id for line in lines if line.device_id}
    data = {
        "customer": customer.model_dump(mode="json"),
        "lines": [line.model_dump(mode="json") for line in lines],
        "plans": [p.model_dump(mode="json") for p in load_all(db, "plans") if p.plan_id in plans],
        "bills": [
            b.model_dump(mode="json")
            for i in customer.bill_ids
            if (b := load(db, "bills", i)) is not None
        ],
        "devices": [
            d.model_dump(mode="json") for d in load_all(db, "devices") if d.device_id in devices
        ],
        "the_users_phone": phone(db).model_dump(mode="json"),
        "the_users_surroundings": surroundings(db).model_dump(mode="json"),
    }
    return json.dumps(data)


def id_choices(records: dict[str, Any]) -> dict[str, list[str]]:
    customer = records["customer"]
    return {
        "customer_id": [customer["customer_id"]],
        "line_id": [line["line_id"] for line in records["lines"]],
        "bill_id": list(customer["bill_ids"]),
    }


def seed_examples(db) -> list[dict[str, Any]]:
    """Two small fixes, one on each side, for the customer of τ²'s scenarios (none when
    the database has no such customer)."""
    number = "555-123-2002"
    line = next((x for x in load_all(db, "lines") if x.phone_number == number), None)
    owner = next(
        (c for c in load_all(db, "customers") if line and line.line_id in c.line_ids), None
    )
    if line is None or owner is None:
        return []
    me = f"You are {owner.full_name} with phone number {number}."
    return [
        {
            "reasoning": "Mobile data is turned off on the phone: only the user can turn it on.",
            "user_id": owner.customer_id,
            "instruction": f"{me} You are at home. Since this morning websites will not load "
            "on your phone and you have no Wi-Fi. You want mobile data working at excellent "
            "speed. Do what the agent asks on your phone and tell them what it shows.",
            "actions": [{"name": "toggle_data", "arguments": {}, "requestor": "user"}],
            "outputs": [],
        },
        {
            "reasoning": "The line used its whole data allowance: the agent adds 2 GB, then "
            "the user restarts the phone so it reconnects.",
            "user_id": owner.customer_id,
            "instruction": f"{me} Your mobile data stopped working. You will buy up to 2 GB "
            "of extra data but never change your plan. You want excellent speed.",
            "actions": [
                {
                    "name": "refuel_data",
                    "arguments": {
                        "customer_id": owner.customer_id,
                        "line_id": line.line_id,
                        "gb_amount": 2.0,
                    },
                    "requestor": "assistant",
                },
                {"name": "reboot_device", "arguments": {}, "requestor": "user"},
            ],
            "outputs": [],
        },
    ]
