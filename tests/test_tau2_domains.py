"""tau2-retail and tau2-airline against τ²-bench's own code (../shared/tau2bench/reference).

Gold: every task's gold actions, replayed by `apigen-mt replay` on our tools and by τ²'s
environment: each observation JSON-equal, each final `state_hash` equal to τ²'s
`get_db_hash()`. Sequences: calls drawn from τ²'s data and bent the way models bend them
(tests/taubench_differential.py), on both sides: the same successes, τ²'s own error texts
(its ValueErrors and pydantic validation errors) word for word, Python's errors on odd
argument types as failures on ours too, and the same hash after every sequence.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tau2_reference import Tau2Oracle, gold_results, tasks_file, tau2_data
from taubench_differential import CALL_STRATEGIES, users_with_records
from typer.testing import CliRunner

from apigen_mt.cli import app
from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.taubench import reported_state_hash

TAU2_OWN_ERRORS = {"ValueError", "ValidationError"}  # τ²'s texts: ours must say the same
EXAMPLES = {"retail": 40, "airline": 30}


def _json_equal(a: str, b: str) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return a == b


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_gold_replay_matches_tau2(domain, tmp_path, cache_dir):
    theirs = gold_results(domain)
    out = tmp_path / "replay.jsonl"
    result = CliRunner().invoke(
        app,
        ["replay", "--domain", f"tau2-{domain}", "--tasks", str(tasks_file(domain)),
         "--out", str(out), "--cache-dir", str(cache_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ours = [json.loads(line) for line in out.read_text().splitlines()]
    assert [o["task_id"] for o in ours] == [t["id"] for t in theirs]
    calls = errors = 0
    for mine, gold in zip(ours, theirs, strict=True):
        assert len(mine["observations"]) == len(gold["observations"]), gold["id"]
        for i, (a, b) in enumerate(zip(mine["observations"], gold["observations"], strict=True)):
            assert _json_equal(a, b["content"]), f"task {gold['id']} call {i}: {a!r} != {b!r}"
            calls += 1
            errors += b["error"]
        assert mine["state_hash"] == gold["hash"], f"task {gold['id']}: final state differs"
    # tasks, gold calls, and the gold calls that fail in τ² (and in ours, with its words)
    assert (len(ours), calls, errors) == {"retail": (114, 550, 18), "airline": (50, 142, 0)}[domain]


def test_splits_pick_tau2s_task_ids(tmp_path, cache_dir):
    path = tasks_file("retail")
    result = CliRunner().invoke(
        app,
        ["replay", "--domain", "tau2-retail", "--tasks", str(path), "--split", "test",
         "--out", str(tmp_path / "o.jsonl"), "--cache-dir", str(cache_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    splits = json.loads(path.with_name("split_tasks.json").read_text())
    ids = [json.loads(line)["task_id"] for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(splits["test"]) and len(ids) == 40
    bad = CliRunner().invoke(
        app, ["replay", "--domain", "tau2-retail", "--tasks", str(path), "--split", "nope"]
    )
    assert bad.exit_code == 2 and "known: base, test, train" in bad.output


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_policy_is_tau2s(domain):
    shipped = get_domain(f"tau2-{domain}").policy
    assert shipped == (tasks_file(domain).with_name("policy.md")).read_text(encoding="utf-8")


def _extra_call(domain: str, data: dict):
    """τ²'s tools that v1 lacks, drawn from its data."""
    if domain == "retail":
        items = sorted(v for p in data["products"].values() for v in p["variants"])[:200]
        return st.builds(
            lambda i: {"name": "get_item_details", "arguments": {"item_id": i}},
            st.sampled_from([*items, "0000000000"]),
        )
    numbers = sorted(data["flights"])
    return st.builds(
        lambda n, d: {"name": "get_flight_status", "arguments": {"flight_number": n, "date": d}},
        st.sampled_from(numbers),
        st.sampled_from(["2024-05-01", "2024-05-15", "2024-05-20", "2024-06-30"]),
    )


def _sequences(domain: str, data: dict, users: list[str]):
    @st.composite
    def sequence(draw):
        user_id = draw(st.sampled_from(users))
        calls = []
        for _ in range(draw(st.integers(1, 8))):
            if draw(st.integers(0, 9)) == 0:
                calls.append(draw(_extra_call(domain, data)))
            else:
                calls.append(draw(CALL_STRATEGIES[domain](data, user_id)))
        return calls

    return sequence()


def _check(env, oracle: Tau2Oracle, domain: str, calls: list[dict], seen) -> list[str]:
    problems: list[str] = []
    oracle.reset(domain)
    with env.sandbox() as sandbox:
        for i, call in enumerate(calls):
            theirs = oracle.call(call["name"], copy.deepcopy(call["arguments"]))
            ours = sandbox.call(call["name"], copy.deepcopy(call["arguments"]))
            seen.add((call["name"], not theirs["error"]))
            where = f"call {i} {call['name']}({json.dumps(call['arguments'])[:300]})"
            if not theirs["error"]:
                if not ours.ok:
                    problems.append(f"{where}: τ² succeeded, ours {ours.observation!r}")
                elif not _json_equal(ours.observation, theirs["content"]):
                    problems.append(f"{where}: τ² {theirs['content'][:300]!r}, ours "
                                    f"{ours.observation[:300]!r}")  # fmt: skip
            elif ours.ok:
                problems.append(f"{where}: τ² {theirs['content']!r}, ours succeeded")
            elif theirs["raised"] in TAU2_OWN_ERRORS and ours.observation != theirs["content"]:
                problems.append(f"{where}: τ² {theirs['content']!r}, ours {ours.observation!r}")
            if problems:
                break
        if reported_state_hash(env, sandbox) != oracle.hash():
            problems.append(f"after {len(calls)} calls: the state differs from τ²'s")
    return problems


def _run(domain: str, cache_dir, examples: int) -> set:
    data = json.loads((tau2_data() / "tau2" / "domains" / domain / "db.json").read_text())
    env = Environment.from_tau2(f"tau2-{domain}", tau2_data(), cache_dir=cache_dir)
    oracle, seen = Tau2Oracle(), set()
    users = users_with_records(data, domain)

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(_sequences(domain, data, users))
    def sequences_agree(calls):
        problems = _check(env, oracle, domain, calls, seen)
        assert not problems, "\n".join(problems)

    try:
        sequences_agree()
    finally:
        oracle.close()
    return seen


def _assert_writes_succeeded(domain: str, seen: set) -> None:
    writes = set(get_domain(f"tau2-{domain}").tools.write_names)
    missing = sorted(w for w in writes if (w, True) not in seen)
    assert not missing, f"no successful call of {missing} was drawn"


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_call_sequences_agree_with_tau2(domain, cache_dir):
    seen = _run(domain, cache_dir, EXAMPLES[domain])
    assert len(seen) > 10


@pytest.mark.slow
@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_many_call_sequences_agree_with_tau2(domain, cache_dir):
    _assert_writes_succeeded(domain, _run(domain, cache_dir, 600))
