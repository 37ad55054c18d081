"""Our retail and airline tools against τ-bench's own code, on calls models actually make.

Needs ../shared/taubench with `reference/` (τ-bench's tool code, used here only); skips
with the reason otherwise. A fixed seed keeps CI's run repeatable; `-m slow` runs more.
"""

from __future__ import annotations

import importlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taubench_differential import (
    Differ,
    call_sequence,
    load_data,
    load_oracle,
    users_with_records,
)

from apigen_mt.environments import Environment, get_domain
from apigen_mt.environments.taubench import taubench_hash

EXAMPLES = {"retail": 120, "airline": 70}  # about a minute each on 2 cores


def _differ(root, domain: str, cache_dir) -> tuple[Differ, dict]:
    if not (root / domain / "tasks_test.json").is_file():
        pytest.skip(f"τ-bench {domain} data not found at {root} (set $APIGEN_MT_TAUBENCH_DIR)")
    oracle, why = load_oracle(root, domain)
    if oracle is None:
        pytest.skip(why)
    env = Environment.from_taubench(domain, root / domain, cache_dir=cache_dir)
    return Differ(env, oracle), load_data(root, domain)


def _run(root, domain: str, cache_dir, examples: int, *, every_call: bool = False) -> Differ:
    differ, data = _differ(root, domain, cache_dir)
    users = users_with_records(data, domain)

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # a fixed seed: the same sequences on every run
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(call_sequence(domain, data, users))
    def sequences_agree(calls):
        problems = differ.check(calls, hash_every_call=every_call)
        assert not problems, "\n".join(problems)

    sequences_agree()
    return differ


def _assert_writes_exercised(differ: Differ, domain: str) -> None:
    """The draws must reach successful writes, or agreement would prove little."""
    writes = set(get_domain(domain).tools.write_names)
    missing = sorted(w for w in writes if not differ.seen[(w, True)])
    assert not missing, f"no successful call of {missing} was drawn: {dict(differ.seen)}"


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_call_sequences_agree_with_taubench(domain, taubench_root, cache_dir):
    differ = _run(taubench_root, domain, cache_dir, EXAMPLES[domain])
    _assert_writes_exercised(differ, domain)


@pytest.mark.slow
@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_many_call_sequences_agree_with_taubench(domain, taubench_root, cache_dir):
    """More sequences, and τ-bench's hash compared after every call, not only at the end."""
    _assert_writes_exercised(_run(taubench_root, domain, cache_dir, 1500, every_call=True), domain)


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_each_argument_missing_agrees_with_taubench(domain, taubench_root, cache_dir):
    """Every tool, once with each of its arguments left out (from a gold call where there is
    one, else from the tool's own example arguments)."""
    differ, _ = _differ(taubench_root, domain, cache_dir)
    tasks = json.loads((taubench_root / domain / "tasks_test.json").read_text())
    examples = {}
    for task in tasks:
        for action in task["actions"]:
            examples.setdefault(action["name"], action["arguments"])
    examples.setdefault("think", {"thought": "x"})
    examples.setdefault("calculate", {"expression": "1 + 1"})
    examples.setdefault("transfer_to_human_agents", {"summary": "x"})
    checked = 0
    for tool in get_domain(domain).tools:
        arguments = examples.get(tool.name, {})
        for key in arguments:
            call = {
                "name": tool.name,
                "arguments": {k: v for k, v in arguments.items() if k != key},
            }
            assert not differ.check([call]), call
            checked += 1
    assert checked >= {"retail": 25, "airline": 20}[domain]


def _booking(data: dict, payments) -> dict:
    """A bookable one-way economy trip for a user with a certificate and a credit card;
    `payments(total, certificate, card)` lists the payment methods."""

    def first(methods: dict, kind: str) -> str | None:
        return next((m for m in sorted(methods) if m.startswith(kind)), None)

    user_id, user = next(
        (u, r)
        for u, r in sorted(data["users"].items())
        if first(r["payment_methods"], "certificate") and first(r["payment_methods"], "credit")
    )
    cert = first(user["payment_methods"], "certificate")
    card = first(user["payment_methods"], "credit_card")
    number, flight = next(
        (n, f)
        for n, f in sorted(data["flights"].items())
        if any(d["status"] == "available" for d in f["dates"].values())
    )
    date = next(d for d, v in sorted(flight["dates"].items()) if v["status"] == "available")
    total = flight["dates"][date]["prices"]["economy"]
    return {
        "user_id": user_id,
        "origin": flight["origin"],
        "destination": flight["destination"],
        "flight_type": "one_way",
        "cabin": "economy",
        "flights": [
            # extra keys inside a flight, as gpt-4o sends them: τ-bench keeps them
            {"flight_number": number, "date": date, "origin": flight["origin"], "x": 1}
        ],
        "passengers": [{**user["name"], "dob": user["dob"]}],
        "payment_methods": payments(total, cert, card),
        "total_baggages": 1,
        "nonfree_baggages": 0,
        "insurance": "no",
    }


def _pinned(domain: str, data: dict) -> dict[str, list[dict]]:
    """One minimal example of each class of mismatch the differential test found."""
    if domain == "retail":
        delivered = next(o for o, r in data["orders"].items() if r["status"] == "delivered")
        pending = next(o for o, r in data["orders"].items() if r["status"] == "pending")
        return {
            "reason checked after the order": [
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": delivered, "reason": "other"},
                },
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": pending, "reason": "other"},
                },
            ]
        }
    rid = next(iter(sorted(data["reservations"])))
    reservation = data["reservations"][rid]
    return {
        "airport name": [{"name": "list_all_airports", "arguments": {}}],
        "missing reservation text": [
            {"name": "get_reservation_details", "arguments": {"reservation_id": "NOPE00"}}
        ],
        "extra keys in nested objects": [
            {
                "name": "update_reservation_passengers",
                "arguments": {
                    "reservation_id": rid,
                    "passengers": [{**p, "seat": "12A"} for p in reservation["passengers"]],
                },
            }
        ],
        "numbers as sent": [
            {
                "name": "send_certificate",
                "arguments": {"user_id": reservation["user_id"], "amount": "100"},
            },
            {
                "name": "update_reservation_baggages",
                "arguments": {
                    "reservation_id": rid,
                    "total_baggages": 2.0,
                    "nonfree_baggages": 0,
                    "payment_id": reservation["payment_history"][0]["payment_id"],
                },
            },
        ],
        "several payment methods, a certificate at zero": [
            {
                "name": "book_reservation",
                "arguments": _booking(
                    data,
                    lambda total, cert, card: [
                        {"payment_id": cert, "amount": 0},
                        {"payment_id": card, "amount": total},
                    ],
                ),
            }
        ],
        "a certificate twice: τ-bench writes, then fails": [
            {
                "name": "book_reservation",
                "arguments": _booking(
                    data,
                    lambda total, cert, card: [
                        {"payment_id": cert, "amount": 0},
                        {"payment_id": cert, "amount": 0},
                        {"payment_id": card, "amount": total},
                    ],
                ),
            }
        ],
    }


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_each_mismatch_found_stays_fixed(domain, taubench_root, cache_dir):
    differ, data = _differ(taubench_root, domain, cache_dir)
    for name, calls in _pinned(domain, data).items():
        assert not differ.check(calls, hash_every_call=True), name


JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=40,
)


def test_our_hash_is_taubenchs_own(taubench_root):
    """`taubench_hash` writes the text τ-bench hashes without building its tuples: equal to
    τ-bench's consistent_hash(to_hashable(data)) on its whole databases and on any data."""
    oracle, why = load_oracle(taubench_root, "retail")
    if oracle is None:
        pytest.skip(why)
    theirs = importlib.import_module("oracle")
    for domain in ("retail", "airline"):
        data = load_data(taubench_root, domain)
        assert taubench_hash(data) == theirs.consistent_hash(theirs.to_hashable(data))

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(st.dictionaries(st.text(max_size=6), JSON_DATA, max_size=5))
    def same(data):
        assert taubench_hash(data) == theirs.consistent_hash(theirs.to_hashable(data))

    same()
