"""The README's table: τ-bench v1's test tasks whose gold τ² changed, against what our
deterministic checks flag on the v1 task (needs ../shared's τ-bench and τ² data)."""

from __future__ import annotations

import pytest
from tau2_reference import tau2_data

from apigen_mt.graphs.audit import audit_flags
from apigen_mt.task_defects import defect_table, match_tasks


@pytest.mark.parametrize(
    ("domain", "expected"),
    [  # (with a τ² version, changed, flagged, caught, missed, false alarms)
        ("retail", (114, 7, 7, 5, 2, 2)),
        ("airline", (50, 14, 5, 5, 9, 0)),
    ],
)
def test_the_audit_flags_most_v1_defects_with_few_false_alarms(domain, expected, taubench_root):
    if not (taubench_root / domain / "tasks_test.json").is_file():
        pytest.skip(f"τ-bench {domain} not found at {taubench_root}")
    row = defect_table(domain, taubench_root, tau2_data())
    got = (row.matched, row.changed, row.flagged, row.caught, row.missed, row.false_alarms)
    assert got == expected


def test_tasks_are_matched_by_what_their_instructions_share():
    v1 = [{"instruction": "You are Ann Lee, user ann_lee_1. Cancel order #W1."},
          {"instruction": "You are Bo Chan, user bo_chan_2. Return order #W2."}]  # fmt: skip
    tau2 = [{"user_scenario": {"instructions": "Return #W2. Bo Chan, bo_chan_2."}},
            {"user_scenario": {"instructions": "Cancel #W1. Ann Lee, ann_lee_1."}}]  # fmt: skip
    assert match_tasks(v1, tau2) == {0: 1, 1: 0}


def test_a_gold_write_that_fails_is_flagged(retail_env):
    from apigen_mt.environments.taubench import TaubenchTask

    task = TaubenchTask(
        instruction="Cancel an order.",
        actions=[{"name": "cancel_pending_order",
                  "arguments": {"order_id": "#W0000000", "reason": "no longer needed"}}],
    )  # fmt: skip
    assert audit_flags(retail_env, task) == [
        "gold write fails: cancel_pending_order: Error: order not found"
    ]
