"""Worlds for tests, laid out as a user would lay them out: a copy of tests/worlds/<name>
with its database built by the world's own script, and a scripted proposer for it."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

WORLDS = Path(__file__).resolve().parent / "worlds"


def world_copy(tmp: Path, name: str = "acme") -> Path:
    """tmp/acme (and tmp/<name> beside it), with app.sqlite built; the path of <name>."""
    acme = tmp / "acme"
    if not acme.exists():
        shutil.copytree(WORLDS / "acme", acme, ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([sys.executable, "build_db.py"], cwd=acme, check=True)
    if name == "acme":
        return acme
    folder = tmp / name
    if not folder.exists():
        shutil.copytree(WORLDS / name, folder, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(acme / "app.sqlite", folder / "app.sqlite")
    return folder


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tasks_of(folder: Path) -> list[dict[str, Any]]:
    return json.loads((WORLDS / "acme" / "tasks.json").read_text(encoding="utf-8"))


def propose_acme(records: dict[str, Any]) -> dict[str, Any]:
    """A grounded blueprint from the records the proposer is shown: cancel a pending order,
    else refund a delivered line, else goodwill points."""
    customer = records["Customer"]
    email, user = customer["Email"], records["user_id"]
    orders = records.get("Order", [])
    pending = [o for o in orders if o["Status"] == "Pending"]
    delivered = {o["OrderId"] for o in orders if o["Status"] == "Delivered"}
    lines = [line for line in records.get("OrderLine", []) if line["OrderId"] in delivered]
    if pending:
        order = pending[0]["OrderId"]
        ask = f"your pending order {order} is no longer needed: cancel it"
        act = {
            "name": "cancel_order",
            "arguments": {"order_id": order, "reason": "no longer needed"},
        }
    elif lines:
        line = lines[0]
        ask = f"line {line['LineNo']} of order {line['OrderId']} arrived damaged: refund it"
        act = {
            "name": "refund_order_line",
            "arguments": {
                "line": {"order_id": line["OrderId"], "line_no": line["LineNo"]},
                "reason": "damaged",
            },
        }
    else:
        ask = "you were promised 10 goodwill points: get them added"
        act = {"name": "add_loyalty_points", "arguments": {"customer_id": int(user), "points": 10}}
    return {
        "reasoning": "scripted oracle for the acme world",
        "user_id": user,
        "instruction": f"You are {customer['FullName']} ({email}); {ask}.",
        # Only writes: the per-context schema offers the sampled walk's reads, not all.
        "actions": [act],
        "outputs": [],
    }
