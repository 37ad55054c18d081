"""τ²'s reward components computed as its evaluator does (environments/tau2/rewards.py)."""

from __future__ import annotations

from apigen_mt.environments.tau2.rewards import action_matches, combine

GOLD = {"name": "cancel_reservation", "arguments": {"reservation_id": "ZFA04Y"}}


def test_actions_compare_on_compare_args_only():
    call = {"name": "cancel_reservation", "arguments": {"reservation_id": "ZFA04Y"}}
    assert action_matches(GOLD, call)
    assert not action_matches(GOLD, {**call, "arguments": {"reservation_id": "XXXXXX"}})
    assert not action_matches(GOLD, {**call, "name": "get_reservation_details"})
    # compare_args None: every argument the *call* was made with must equal the gold's
    assert not action_matches(GOLD, {**call, "arguments": {"reservation_id": "ZFA04Y", "x": 1}})
    loose = {
        **GOLD,
        "arguments": {"reservation_id": "ZFA04Y", "reason": "a"},
        "compare_args": ["reservation_id"],
    }
    assert action_matches(loose, {**call, "arguments": {"reservation_id": "ZFA04Y", "reason": "b"}})
    assert action_matches({**GOLD, "compare_args": []}, {**call, "arguments": {}})


def test_the_reward_is_the_product_of_the_basis():
    tau2 = {
        "reward_basis": ["DB", "ACTION", "COMMUNICATE"],
        "actions": [GOLD],
        "communicate_info": ["1,628"],
    }
    said = ["The refund is 1628 dollars."]  # τ² drops commas from the agent's words only
    made = [{"name": "cancel_reservation", "arguments": {"reservation_id": "ZFA04Y"}}]
    ok = combine(tau2, db_match=True, agent_messages=said, tool_calls=made, nl_assertions=None)
    assert ok.reward == 0.0 and ok.components == {"DB": 1.0, "COMMUNICATE": 0.0, "ACTION": 1.0}
    tau2["communicate_info"] = ["1628"]
    ok = combine(tau2, db_match=True, agent_messages=said, tool_calls=made, nl_assertions=None)
    assert ok.reward == 1.0
    no_action = combine(tau2, db_match=True, agent_messages=said, tool_calls=[], nl_assertions=None)
    assert no_action.reward == 0.0 and no_action.actions[0]["met"] is False
    cut = combine(tau2, db_match=True, agent_messages=said, tool_calls=made, nl_assertions=None,
                  cut_off="turn_limit")  # fmt: skip
    assert cut.reward == 0.0 and cut.components["DB"] == 1.0 and "turn_limit" in cut.note
    only_db = combine({"reward_basis": ["DB"]}, db_match=False, agent_messages=[], tool_calls=[],
                      nl_assertions=None)  # fmt: skip
    assert only_db.reward == 0.0 and only_db.components == {"DB": 0.0}
