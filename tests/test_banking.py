"""Banking: the hand-written tasks replay and pass the rules; broken variants are rejected
with the rule named; a scripted dialogue on a task is verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from phase2_helpers import add_task, dialogue_context
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.environments import Environment, check_policy, state_hash
from apigen_mt.environments.banking.tasks import TASKS
from apigen_mt.graphs.dialogue import run_dialogue

VERIFY_1000 = {
    "name": "verify_identity",
    "arguments": {"email": "maya.novak15@example.com", "date_of_birth": "1981-07-26"},
}


@pytest.fixture(scope="module")
def bank(cache_dir) -> Environment:
    return Environment.generated("banking", seed=0, cache_dir=cache_dir)


def _check(env, user_id, actions):
    with env.sandbox() as sandbox:
        return check_policy(
            sandbox.executor, actions, env.domain.rules, user_id=user_id, blueprint=True
        )


def test_there_are_at_least_twenty_hand_written_tasks():
    assert len(TASKS) >= 20
    assert all(t["actions"][0]["name"] == "verify_identity" for t in TASKS)
    writes = {
        "transfer_between_accounts",
        "pay_payee",
        "add_payee",
        "freeze_card",
        "unfreeze_card",
        "dispute_transaction",
        "update_contact_details",
    }
    assert writes <= {a["name"] for t in TASKS for a in t["actions"]}


@pytest.mark.parametrize("index", range(len(TASKS)))
def test_each_task_executes_and_passes_the_rules(bank, index):
    task = TASKS[index]
    report = _check(bank, task["user_id"], task["actions"])
    assert report.ok, [str(v) for v in report.violations]
    assert all(e.ok for e in report.trace), [e.observation for e in report.trace if not e.ok]


def test_a_transfer_changes_two_balances_and_posts_two_transactions(bank):
    with bank.sandbox() as sandbox:
        sandbox.run(TASKS[0]["actions"])  # $500 checking -> savings
        changes = sandbox.diff()
    balances = {c.key[0]: (c.before, c.after) for c in changes if c.table == "accounts"}
    assert balances == {"acc_20000": (1154.34, 654.34), "acc_20001": (12700.0, 13200.0)}
    posted = [c.after for c in changes if c.table == "transactions"]
    assert sorted(t["amount"] for t in posted) == [-500.0, 500.0]
    assert len(changes) == 4


def _broken(env, user_id, actions) -> set[str]:
    return set(_check(env, user_id, actions).rule_names)


def test_nothing_before_verification(bank):
    actions = [{"name": "list_accounts", "arguments": {"customer_id": "cus_1000"}}]
    assert "authenticate_first" in _broken(bank, "cus_1000", actions)


def test_another_customers_account_or_identity(bank):
    peek = {"name": "get_balance", "arguments": {"account_id": "acc_20002"}}  # cus_1001's
    assert "own_accounts_only" in _broken(bank, "cus_1000", [VERIFY_1000, peek])
    other = {
        "name": "verify_identity",
        "arguments": {"email": "wei.novak50@example.com", "date_of_birth": "1950-12-25"},
    }
    assert "verified_as_the_task_customer" in _broken(bank, "cus_1000", [other])


def _transfer(src, dst, amount):
    return {
        "name": "transfer_between_accounts",
        "arguments": {"from_account_id": src, "to_account_id": dst, "amount": amount},
    }


def test_money_rules(bank):
    verify_1001 = TASKS[1]["actions"][0]
    assert "no_transfers_from_credit" in _broken(
        bank, "cus_1001", [verify_1001, _transfer("acc_20003", "acc_20002", 50.0)]
    )
    assert "within_overdraft_limit" in _broken(
        bank, "cus_1000", [VERIFY_1000, _transfer("acc_20000", "acc_20001", 5000.0)]
    )
    verify_1011 = TASKS[12]["actions"][0]
    over = [
        verify_1011,
        _transfer("acc_20024", "acc_20023", 2000.0),
        _transfer("acc_20024", "acc_20023", 600.0),
    ]
    assert _broken(bank, "cus_1011", over) == {"daily_transfer_limit"}


def test_a_payee_added_today_cannot_be_paid_yet(bank):
    pay = {
        "name": "pay_payee",
        "arguments": {"account_id": "acc_20000", "payee_id": "pay_300", "amount": 10.0},
    }
    assert _broken(bank, "cus_1000", [VERIFY_1000, pay]) == {"new_payee_cooling_off"}


def test_disputes_only_recent_card_or_payment_transactions(bank):
    old = {
        "name": "dispute_transaction",
        "arguments": {"transaction_id": "txn_4016", "reason": "unauthorized"},
    }
    assert "dispute_window" in _broken(bank, "cus_1000", [VERIFY_1000, old])


def test_unfreezing_needs_the_cards_listed_first(bank):
    task = TASKS[7]  # unfreeze card_7009 after listing cards
    skipped = [a for a in task["actions"] if a["name"] != "list_cards"]
    assert _broken(bank, task["user_id"], skipped) == {"cards_listed_before_unfreeze"}


def test_every_rule_has_a_test_that_names_it(bank):
    source = Path(__file__).read_text()
    assert [r.name for r in bank.domain.rules.rules if f'"{r.name}"' not in source] == []


def test_the_generator_is_deterministic(tmp_path):
    a = Environment.generated("banking", seed=3, cache_dir=tmp_path / "a")
    b = Environment.generated("banking", seed=3, cache_dir=tmp_path / "b")
    c = Environment.generated("banking", seed=4, cache_dir=tmp_path / "c")
    schema = a.domain.schema
    assert state_hash(a.master, schema) == state_hash(b.master, schema)
    assert state_hash(a.master, schema) != state_hash(c.master, schema)


async def test_a_scripted_dialogue_on_a_task_is_verified(bank):
    task = TASKS[12]  # two writes: a transfer, then a payment
    ctx = dialogue_context(bank, task["actions"], task["outputs"])
    state = await run_dialogue(ctx, add_task(ctx, task["actions"], task["outputs"]))
    assert state["accepted"], state.get("reason")


def test_cli_replays_banking_tasks_on_generated_data(cache_dir, tmp_path):
    tasks = Path(__file__).resolve().parents[1] / "environments" / "banking" / "tasks.json"
    result = CliRunner().invoke(
        app,
        [
            "taubench",
            "replay",
            "--domain",
            "banking",
            "--tasks",
            str(tasks),
            "--cache-dir",
            str(cache_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(lines) == len(TASKS)
    assert not any(o.startswith("Error:") for line in lines for o in line["observations"])
