"""tau2-telecom (dual control) against τ²-bench's own code (../shared/tau2bench/reference).

Gold: each of the 114 tasks' initialization (on both sides), then its gold actions — the
user's and the agent's, each on its own side — replayed by `apigen-mt replay` and by τ²'s
environment: every observation identical, both databases' hashes (`state_hash`,
`user_state_hash`) equal to τ²'s, every env assertion evaluating as τ²'s does.
Sequences: calls on both sides from a task's initial state, bent as models and users bend
them, on both implementations: the same observations, errors and both hashes.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tau2_reference import Tau2Oracle, gold_results, tasks_file, tau2_data
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.tau2.hashing import tau2_user_hash_of
from apigen_mt.environments.taubench import load_tasks, reported_state_hash, run_setup

EXAMPLES = 40


@pytest.fixture(scope="module")
def telecom(cache_dir):
    env = Environment.from_tau2("tau2-telecom", tau2_data(), cache_dir=cache_dir)
    yield env
    env.close()


def test_gold_replay_matches_tau2(tmp_path, cache_dir):
    theirs = gold_results("telecom")
    out = tmp_path / "replay.jsonl"
    result = CliRunner().invoke(
        app,
        ["replay", "--domain", "tau2-telecom", "--tasks", str(tasks_file("telecom")),
         "--out", str(out), "--cache-dir", str(cache_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ours = [json.loads(line) for line in out.read_text().splitlines()]
    assert [o["task_id"] for o in ours] == [t["id"] for t in theirs]
    calls = users = 0
    tasks = load_tasks(tasks_file("telecom"))
    for mine, gold, task in zip(ours, theirs, tasks, strict=True):
        for i, (a, b) in enumerate(zip(mine["observations"], gold["observations"], strict=True)):
            assert a == b["content"], f"task {gold['id']} call {i}: {a!r} != {b['content']!r}"
            calls += 1
        users += sum(a.requestor == "user" for a in task.actions)
        assert mine["state_hash"] == gold["hash"], f"task {gold['id']}: the carrier's side"
        assert mine["user_state_hash"] == gold["user_hash"], f"task {gold['id']}: the phone"
    assert (len(ours), calls, users) == (114, 516, 393)


def test_env_assertions_evaluate_as_tau2s(telecom):
    theirs = {t["id"]: t["assertions"] for t in gold_results("telecom")}
    checked = 0
    for task in load_tasks(tasks_file("telecom")):
        with telecom.sandbox() as sandbox:
            run_setup(sandbox, task)
            sandbox.run(task.actions)
            ours = [
                sandbox.function(a["env_type"], a["func_name"], a["arguments"])
                == a.get("assert_value", True)
                for a in task.tau2["env_assertions"]
            ]
        assert ours == theirs[task.tau2["id"]], task.tau2["id"]
        checked += len(ours)
    assert checked == 209  # every env assertion of the 114 tasks holds after the gold


def test_the_user_acts_on_the_phone_and_the_agent_on_the_records(telecom):
    with telecom.sandbox() as sandbox:
        user = sandbox.call("toggle_airplane_mode", {}, requestor="user")
        assert user.ok and user.observation.startswith("Airplane Mode is now ON.")
        assert sandbox.trace == [] and len(sandbox.user_trace) == 1  # the agent saw nothing
        agent = sandbox.call("toggle_airplane_mode", {})
        assert not agent.ok and "unknown tool" in agent.observation
        assert not sandbox.call("get_customer_by_id", {"customer_id": "C1001"},
                                requestor="user").ok  # fmt: skip


def test_policy_is_tau2s():
    folder = tasks_file("telecom").parent
    main = (folder / "main_policy.md").read_text(encoding="utf-8")
    manual = (folder / "tech_support_manual.md").read_text(encoding="utf-8")
    expected = (
        f"<main_policy>\n{main}\n</main_policy>\n"
        f"<tech_support_policy>\n{manual}\n</tech_support_policy>"
    )
    assert get_domain("tau2-telecom").policy == expected


def test_without_tau2s_data_the_domain_says_so(tmp_path, monkeypatch):
    with pytest.raises((FileNotFoundError, ValueError), match=r"db\.toml|τ²'s telecom"):
        Environment.for_data("tau2-telecom", tmp_path / "nowhere")
    from typer.testing import CliRunner

    from apigen_mt.cli import app

    monkeypatch.delenv("TAU2_DATA_DIR", raising=False)
    shown = CliRunner().invoke(app, ["domains", "show", "tau2-telecom"])
    assert shown.exit_code == 2 and "τ²'s telecom folder" in shown.output


def test_domains_show_lists_both_sides_tools(cache_dir):
    import json

    from typer.testing import CliRunner

    from apigen_mt.cli import app

    folder = str(tasks_file("telecom").parent)
    shown = CliRunner().invoke(app, ["domains", "show", "tau2-telecom", "--data-dir", folder,
                                     "--cache-dir", str(cache_dir), "--json"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.stdout)
    assert len(info["tools"]) == 13 and len(info["user_tools"]) == 30
    assert info["tables"]["phone"] == 2


# ---- sequences on both sides ---------------------------------------------------------
# fmt: off
AGENT_CALLS = [
    ("get_customer_by_phone", {"phone_number": ["555-123-2002", "555-123-2001", "555-000-0000", 5551232002]}),
    ("get_customer_by_id", {"customer_id": ["C1001", "C1002", "C9999"]}),
    ("get_customer_by_name", {"full_name": ["John Smith", "john smith"], "dob": ["1985-06-15", "15/06/1985"]}),
    ("get_details_by_id", {"id": ["L1002", "D1001", "B1001", "C1001", "P1002", "X1", "L9999"]}),
    ("get_bills_for_customer", {"customer_id": ["C1001", "C1002"]}),
    ("get_data_usage", {"customer_id": ["C1001", "C1002"], "line_id": ["L1001", "L1002", "L1003"]}),
    ("enable_roaming", {"customer_id": ["C1001"], "line_id": ["L1002", "L1001"]}),
    ("disable_roaming", {"customer_id": ["C1001"], "line_id": ["L1002"]}),
    ("refuel_data", {"customer_id": ["C1001"], "line_id": ["L1002"], "gb_amount": [2.0, 1, 0, -1.5]}),
    ("suspend_line", {"customer_id": ["C1001"], "line_id": ["L1002"], "reason": ["travel"]}),
    ("resume_line", {"customer_id": ["C1001"], "line_id": ["L1002"]}),
    ("send_payment_request", {"customer_id": ["C1001"], "bill_id": ["B1001", "B1002", "B1234"]}),
    ("transfer_to_human_agents", {"summary": ["cannot fix"]}),
]
USER_CALLS = [
    ("check_status_bar", {}), ("check_network_status", {}), ("run_speed_test", {}),
    ("check_network_mode_preference", {}),
    ("set_network_mode_preference", {"mode": ["4g_5g_preferred", "3g_only", "2g_only", "5g", "4g_only"]}),
    ("toggle_airplane_mode", {}), ("check_sim_status", {}), ("reseat_sim_card", {}),
    ("toggle_data", {}), ("toggle_roaming", {}), ("check_data_restriction_status", {}),
    ("toggle_data_saver_mode", {}), ("check_apn_settings", {}), ("reset_apn_settings", {}),
    ("check_wifi_status", {}), ("toggle_wifi", {}), ("check_wifi_calling_status", {}),
    ("toggle_wifi_calling", {}), ("check_vpn_status", {}), ("connect_vpn", {}),
    ("disconnect_vpn", {}), ("check_installed_apps", {}),
    ("check_app_status", {"app_name": ["messaging", "browser", "camera"]}),
    ("check_app_permissions", {"app_name": ["messaging", "browser", "camera"]}),
    ("grant_app_permission", {"app_name": ["messaging", "camera"], "permission": ["storage", "SMS", "location"]}),
    ("can_send_mms", {}), ("reboot_device", {}), ("check_payment_request", {}),
    ("make_payment", {}),
]
# fmt: on


def _call(draw, side: str, options: list):
    name, arguments = draw(st.sampled_from(options))
    args = {k: draw(st.sampled_from(v)) for k, v in arguments.items()}
    return {"name": name, "arguments": args, "requestor": side}


@st.composite
def _sequence(draw):
    calls = []
    for _ in range(draw(st.integers(1, 10))):
        side = draw(st.sampled_from(["user", "user", "assistant"]))
        calls.append(_call(draw, side, USER_CALLS if side == "user" else AGENT_CALLS))
    return draw(st.integers(0, 113)), calls


def _check(env, oracle: Tau2Oracle, tasks, index: int, calls: list[dict]) -> list[str]:
    problems: list[str] = []
    oracle.task("telecom", index)
    with env.sandbox() as sandbox:
        run_setup(sandbox, tasks[index])
        for i, call in enumerate(calls):
            theirs = oracle.call(call["name"], copy.deepcopy(call["arguments"]), call["requestor"])
            ours = sandbox.call(call["name"], copy.deepcopy(call["arguments"]), call["requestor"])
            if ours.observation != theirs["content"] and theirs["raised"] not in (
                "TypeError", "AttributeError",
            ):  # fmt: skip
                problems.append(f"call {i} {call}: τ² {theirs['content'][:300]!r}, ours "
                                f"{ours.observation[:300]!r}")  # fmt: skip
            elif theirs["error"] and ours.ok:
                problems.append(f"call {i} {call}: τ² failed, ours succeeded")
            if problems:
                break
        if reported_state_hash(env, sandbox) != oracle.hash():
            problems.append(f"task {index}, {len(calls)} calls: the carrier's side differs")
        if tau2_user_hash_of(env, sandbox) != oracle.user_hash():
            problems.append(f"task {index}, {len(calls)} calls: the phone differs")
    return problems


def _run(telecom, examples: int) -> None:
    tasks, oracle = load_tasks(tasks_file("telecom")), Tau2Oracle()

    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
    @given(_sequence())
    def sequences_agree(drawn):
        index, calls = drawn
        problems = _check(telecom, oracle, tasks, index, calls)
        assert not problems, "\n".join(problems)

    try:
        sequences_agree()
    finally:
        oracle.close()


def test_call_sequences_on_both_sides_agree_with_tau2(telecom):
    _run(telecom, EXAMPLES)


@pytest.mark.slow
def test_many_call_sequences_on_both_sides_agree_with_tau2(telecom):
    _run(telecom, 600)


def test_validate_knows_who_may_call_what(tmp_path, cache_dir):
    path = tasks_file("telecom")
    result = CliRunner().invoke(
        app, ["validate", "--domain", "tau2-telecom", "--tasks", str(path), "--cache-dir",
              str(cache_dir)],
    )  # fmt: skip
    assert "94 of 114 tasks pass" in result.output  # the other 20: a transfer, no write
    tasks = json.loads(path.read_text())
    transfers = [
        t for t in tasks
        if [a["name"] for a in t["evaluation_criteria"]["actions"]] == ["transfer_to_human_agents"]
    ]  # fmt: skip
    assert len(transfers) == 20
    wrong = json.loads(json.dumps(tasks[0]))
    wrong["evaluation_criteria"]["actions"][0]["requestor"] = "assistant"  # toggle_data
    (tmp_path / "wrong.json").write_text(json.dumps([wrong]))
    bad = CliRunner().invoke(
        app, ["validate", "--domain", "tau2-telecom", "--tasks", str(tmp_path / "wrong.json"),
              "--data-dir", str(path.parent), "--cache-dir", str(cache_dir)],
    )  # fmt: skip
    assert (
        bad.exit_code == 1 and "'toggle_data' is the user's tool, not the assistant's" in bad.output
    )
