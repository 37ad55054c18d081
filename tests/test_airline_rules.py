"""Airline policy rules on the generated database: valid sequences pass, broken variants
are rejected with the rule named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils

from apigen_mt.environments import check_policy
from apigen_mt.environments.airline import records


def _db(env) -> sqlite_utils.Database:
    return sqlite_utils.Database(env.master)


def _policy(env, user_id, actions):
    with env.sandbox() as sandbox:
        return check_policy(
            sandbox.executor, actions, env.domain.rules, user_id=user_id, blueprint=True
        )


def _reservations(env, where: str):
    rows = env.master.execute(
        f"SELECT reservation_id FROM reservations WHERE status IS NULL AND {where} ORDER BY rowid"
    ).fetchall()
    out = []
    for (rid,) in rows:
        r = records.reservation(_db(env), rid)
        if min(f["date"] for f in r["flights"]) > "2024-05-16":
            out.append(r)
    return out


def _card(env, user_id, source="credit_card"):
    methods = records.payment_methods(_db(env), user_id)
    return next((m for m, v in methods.items() if v["source"] == source), None)


def _rules_broken(env, user, actions) -> set[str]:
    return set(_policy(env, user, actions).rule_names)


def test_seed_example_passes_and_executes(airline_env):
    with airline_env.sandbox() as sandbox:
        [example] = airline_env.domain.tasks.seed_examples(sandbox.db)
    report = _policy(airline_env, example["user_id"], example["actions"])
    assert report.ok and all(e.ok for e in report.trace)


def test_cancelling_an_old_economy_trip_without_insurance(airline_env):
    r = _reservations(
        airline_env,
        "cabin = 'economy' AND insurance = 'no' AND created_at < '2024-05-10'",
    )[0]
    actions = [{"name": "cancel_reservation", "arguments": {"reservation_id": r["reservation_id"]}}]
    assert _rules_broken(airline_env, r["user_id"], actions) == {"cancel_eligibility"}


def test_cancelling_a_business_trip_is_allowed(airline_env):
    r = _reservations(airline_env, "cabin = 'business' AND insurance = 'no'")[0]
    actions = [{"name": "cancel_reservation", "arguments": {"reservation_id": r["reservation_id"]}}]
    assert _policy(airline_env, r["user_id"], actions).ok


def test_changing_basic_economy_flights(airline_env):
    r = _reservations(airline_env, "cabin = 'basic_economy' AND flight_type = 'one_way'")[0]
    card = _card(airline_env, r["user_id"]) or _card(airline_env, r["user_id"], "gift_card")
    moved = [{"flight_number": f["flight_number"], "date": "2024-05-29"} for f in r["flights"]]
    change = {"reservation_id": r["reservation_id"], "flights": moved, "payment_id": card}
    broken = _rules_broken(
        airline_env,
        r["user_id"],
        [{"name": "update_reservation_flights", "arguments": {**change, "cabin": "basic_economy"}}],
    )
    assert "basic_economy_flights_fixed" in broken
    upgraded = _rules_broken(
        airline_env,
        r["user_id"],
        [{"name": "update_reservation_flights", "arguments": {**change, "cabin": "economy"}}],
    )
    assert "basic_economy_flights_fixed" not in upgraded


def test_a_new_destination_is_not_a_change(airline_env):
    r = _reservations(airline_env, "cabin = 'economy' AND flight_type = 'one_way'")[0]
    other = airline_env.master.execute(
        "SELECT flight_number FROM flights WHERE origin = ? AND destination != ? LIMIT 1",
        [r["origin"], r["destination"]],
    ).fetchone()[0]
    card = _card(airline_env, r["user_id"]) or _card(airline_env, r["user_id"], "gift_card")
    action = {
        "name": "update_reservation_flights",
        "arguments": {
            "reservation_id": r["reservation_id"],
            "cabin": "economy",
            "flights": [{"flight_number": other, "date": "2024-05-28"}],
            "payment_id": card,
        },
    }
    assert "same_trip_when_changing_flights" in _rules_broken(airline_env, r["user_id"], [action])


def test_removing_bags_changing_headcount_and_paying_with_a_certificate(airline_env):
    r = _reservations(airline_env, "total_baggages > 0 AND cabin != 'basic_economy'")[0]
    user = r["user_id"]
    rid = r["reservation_id"]
    card = _card(airline_env, user) or _card(airline_env, user, "gift_card")
    fewer = {
        "name": "update_reservation_baggages",
        "arguments": {
            "reservation_id": rid,
            "total_baggages": r["total_baggages"] - 1,
            "nonfree_baggages": 0,
            "payment_id": card,
        },
    }
    assert "bags_only_added" in _rules_broken(airline_env, user, [fewer])
    extra = {"first_name": "A", "last_name": "B", "dob": "2000-01-01"}
    more_people = {
        "name": "update_reservation_passengers",
        "arguments": {"reservation_id": rid, "passengers": [*r["passengers"], extra]},
    }
    assert "passenger_count_fixed" in _rules_broken(airline_env, user, [more_people])
    cert_user = airline_env.master.execute(
        "SELECT r.user_id, r.reservation_id FROM reservations r JOIN payment_methods p "
        "ON p.user_id = r.user_id AND p.source = 'certificate' LIMIT 1"
    ).fetchone()
    cert = _card(airline_env, cert_user[0], "certificate")
    bags = {
        "name": "update_reservation_baggages",
        "arguments": {
            "reservation_id": cert_user[1],
            "total_baggages": 9,
            "nonfree_baggages": 9,
            "payment_id": cert,
        },
    }
    assert "change_paid_by_card_or_gift_card" in _rules_broken(airline_env, cert_user[0], [bags])


def _booking(env, user_id, *, cabin="economy", bags=0, paid_bags=0, payers=None):
    flight, date, price = None, None, None
    for number, day, details in env.master.execute(
        "SELECT flight_number, date, details FROM flight_dates "
        "WHERE status = 'available' ORDER BY rowid"
    ):
        d = json.loads(details)
        if d["available_seats"][cabin] >= 1:
            flight, date, price = number, day, d["prices"][cabin]
            break
    info = records.flight(_db(env), flight)
    total = price + 50 * paid_bags
    payers = payers or [{"payment_id": _card(env, user_id), "amount": total}]
    return {
        "name": "book_reservation",
        "arguments": {
            "user_id": user_id,
            "origin": info["origin"],
            "destination": info["destination"],
            "flight_type": "one_way",
            "cabin": cabin,
            "flights": [{"flight_number": flight, "date": date}],
            "passengers": [{"first_name": "A", "last_name": "B", "dob": "1990-01-01"}],
            "payment_methods": payers,
            "total_baggages": bags,
            "nonfree_baggages": paid_bags,
            "insurance": "no",
        },
    }


@pytest.fixture()
def regular_with_card(airline_env):
    for (user_id,) in airline_env.master.execute(
        "SELECT user_id FROM users WHERE membership = 'regular' ORDER BY rowid"
    ):
        if _card(airline_env, user_id):
            return user_id
    raise AssertionError("no regular member with a credit card")


def test_booking_with_the_right_bags_passes_and_executes(airline_env, regular_with_card):
    action = _booking(airline_env, regular_with_card, bags=2, paid_bags=1)
    report = _policy(airline_env, regular_with_card, [action])
    assert report.ok and report.trace[0].ok, report.trace[0].observation


def test_booking_bags_outside_the_allowance(airline_env, regular_with_card):
    action = _booking(airline_env, regular_with_card, bags=2, paid_bags=0)
    assert "baggage_allowance" in _rules_broken(airline_env, regular_with_card, [action])


def test_booking_with_two_credit_cards_or_six_passengers(airline_env, regular_with_card):
    action = _booking(airline_env, regular_with_card)
    card = action["arguments"]["payment_methods"][0]["payment_id"]
    half = action["arguments"]["payment_methods"][0]["amount"] / 2
    action["arguments"]["payment_methods"] = [
        {"payment_id": card, "amount": half},
        {"payment_id": card, "amount": half},
    ]
    assert "payment_method_limits" in _rules_broken(airline_env, regular_with_card, [action])
    crowd = _booking(airline_env, regular_with_card)
    crowd["arguments"]["passengers"] *= 6
    assert "at_most_five_passengers" in _rules_broken(airline_env, regular_with_card, [crowd])


def test_acting_for_another_customer_and_unearned_certificates(airline_env):
    regular = "SELECT user_id FROM users WHERE membership = 'regular' ORDER BY rowid LIMIT 2"
    a, b = [r[0] for r in airline_env.master.execute(regular)]
    peek = {"name": "get_user_details", "arguments": {"user_id": b}}
    assert "own_reservations_only" in _rules_broken(airline_env, a, [peek])
    for (user_id,) in airline_env.master.execute(
        "SELECT user_id FROM users WHERE membership = 'regular' ORDER BY rowid"
    ):
        held = [
            records.reservation(_db(airline_env), r)
            for r in records.user(_db(airline_env), user_id)["reservations"]
        ]
        if held and all(r["insurance"] == "no" and r["cabin"] != "business" for r in held):
            gift = {"name": "send_certificate", "arguments": {"user_id": user_id, "amount": 100}}
            assert "certificate_only_when_eligible" in _rules_broken(airline_env, user_id, [gift])
            return
    raise AssertionError("no ineligible customer found")


def test_flown_segments_cannot_be_cancelled_or_changed(airline_env):
    db = _db(airline_env)
    for (rid,) in airline_env.master.execute(
        "SELECT reservation_id FROM reservations WHERE cabin = 'business' ORDER BY rowid"
    ):
        r = records.reservation(db, rid)
        if min(f["date"] for f in r["flights"]) < "2024-05-14":
            break
    cancel = {"name": "cancel_reservation", "arguments": {"reservation_id": rid}}
    assert "cancel_only_unflown" in _rules_broken(airline_env, r["user_id"], [cancel])
    card = _card(airline_env, r["user_id"]) or _card(airline_env, r["user_id"], "gift_card")
    later = [{"flight_number": f["flight_number"], "date": "2024-05-29"} for f in r["flights"]]
    arguments = {"reservation_id": rid, "cabin": r["cabin"], "flights": later, "payment_id": card}
    change = {"name": "update_reservation_flights", "arguments": arguments}
    assert "change_only_unflown" in _rules_broken(airline_env, r["user_id"], [change])


def test_every_rule_has_a_test_that_names_it(airline_env):
    source = Path(__file__).read_text()
    untested = [r.name for r in airline_env.domain.rules.rules if f'"{r.name}"' not in source]
    assert untested == []
