"""A scripted proposer for `tau2-telecom` (dual control), for tests and demos: it reads the
scene in the proposer's prompt and writes the fix τ²'s train tasks use for its issues.

Like a model that stops one step short, its first round may leave out the fix's last
user action (the checks then name the assertion still failing, and its next round, given
that feedback, writes the whole fix).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from apigen_mt.environments.tau2_telecom.compose import Catalogue, Compositions, compose, parse_id

SCENE = re.compile(r"^Scene: (\S+)$", re.M)


def telecom_proposer(tasks_file: Path, *, stops_short_first: bool = True):
    """`propose(records)` for OracleRoles(propose=...): `records["_prompt"]` is the prompt."""
    catalogue: Catalogue = Compositions(tasks_file).catalogue

    def propose(records: dict[str, Any]) -> dict[str, Any]:
        prompt = records.get("_prompt", "")
        found = SCENE.search(prompt)
        if found is None:
            raise ValueError("the proposer's prompt shows no scene")
        intent, issues, persona = parse_id(found.group(1))
        fix = compose(catalogue, intent, issues, persona)["evaluation_criteria"]["actions"]
        actions = [
            {"name": a["name"], "arguments": a["arguments"], "requestor": a["requestor"]}
            for a in fix
        ]
        users = [i for i, a in enumerate(actions) if a["requestor"] == "user"]
        first_round = "## Your previous blueprint" not in prompt
        if stops_short_first and first_round and len(actions) > 1 and users:
            del actions[users[-1]]
        known = re.search(r"^What the user knows: (.*)$", prompt, re.M)
        why = re.search(r"^Why the user calls: (.*)$", prompt, re.M)
        customer = records.get("customer", {})
        return {
            "reasoning": f"scripted oracle: fix {', '.join(issues)}",
            "user_id": customer.get("customer_id", ""),
            "instruction": " ".join(
                t for t in (known and known.group(1), why and why.group(1)) if t
            )
            + f" (case {found.group(1)})",
            "actions": actions,
            "outputs": [],
        }

    return propose
