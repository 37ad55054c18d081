"""Airline policy (policy.md) as executable checks over an execution trace.

τ-bench's tools do not enforce these (the agent must); here every call is judged against
the database state just before it. The current time is fixed at 2024-05-15 15:00 EST.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from apigen_mt.environments.rules import RuleContext, RuleSet

from . import records
from .tools import NOW

RULES = RuleSet()
DAY_BEFORE_NOW = "2024-05-14T15:00:00"
TODAY = NOW[:10]
FREE_BAGS = {  # per passenger, by membership and cabin
    "regular": {"basic_economy": 0, "economy": 1, "business": 2},
    "silver": {"basic_economy": 1, "economy": 2, "business": 3},
    "gold": {"basic_economy": 2, "economy": 3, "business": 3},
}
RESERVATION_TOOLS = (
    "get_reservation_details",
    "cancel_reservation",
    "update_reservation_baggages",
    "update_reservation_flights",
    "update_reservation_passengers",
)
PAYING_TOOLS = ("update_reservation_baggages", "update_reservation_flights")


def _reservation(ctx: RuleContext) -> dict[str, Any] | None:
    return records.reservation(ctx.db, ctx.args["reservation_id"])


def _flown(db, reservation: dict[str, Any]) -> list[str]:
    """Segments already flown or in the air (or dated before today)."""
    out = []
    for f in reservation["flights"]:
        day = records.flight_date(db, f["flight_number"], f["date"]) or {}
        if f["date"] < TODAY or day.get("status") in ("flying", "landed"):
            out.append(f"{f['flight_number']} on {f['date']}")
    return out


@RULES.rule(
    "own_reservations_only",
    tools=(*RESERVATION_TOOLS, "get_user_details", "book_reservation", "send_certificate"),
)
def own_reservations_only(ctx: RuleContext) -> str | None:
    """Only the customer's own profile and reservations may be read or changed."""
    if not ctx.user_id:
        return None
    if "user_id" in ctx.args:
        subject = ctx.args["user_id"]
    else:
        found = _reservation(ctx)
        subject = found and found["user_id"]
    if subject and subject != ctx.user_id:
        return f"it concerns user {subject!r}, not the customer {ctx.user_id!r}"
    return None


@RULES.rule("cancel_eligibility", tools=("cancel_reservation",))
def cancel_eligibility(ctx: RuleContext) -> str | None:
    """A reservation can be cancelled within 24 hours of booking, when the airline cancelled
    a flight, when it flies business, or (economy and basic economy) with travel insurance."""
    r = _reservation(ctx)
    if r is None or r.get("status") == "cancelled":
        return None
    airline_cancelled = any(
        (records.flight_date(ctx.db, f["flight_number"], f["date"]) or {}).get("status")
        == "cancelled"
        for f in r["flights"]
    )
    if (
        r["created_at"] >= DAY_BEFORE_NOW
        or airline_cancelled
        or r["cabin"] == "business"
        or r["insurance"] == "yes"
    ):
        return None
    return (
        f"reservation {r['reservation_id']} ({r['cabin']}, no insurance, booked "
        f"{r['created_at']}) is past the 24-hour window and no flight was cancelled"
    )


@RULES.rule("cancel_only_unflown", tools=("cancel_reservation",))
def cancel_only_unflown(ctx: RuleContext) -> str | None:
    """Only a trip none of whose segments has been flown can be cancelled (else transfer)."""
    r = _reservation(ctx)
    flown = _flown(ctx.db, r) if r else []
    return f"segments already flown: {', '.join(flown)}" if flown else None


@RULES.rule("basic_economy_flights_fixed", tools=("update_reservation_flights",))
def basic_economy_flights_fixed(ctx: RuleContext) -> str | None:
    """Basic economy flights cannot be changed (the cabin can: upgrading in the same call
    makes the new flights a change of an economy or business ticket)."""
    r = _reservation(ctx)
    if r is None or r["cabin"] != "basic_economy" or ctx.args["cabin"] != "basic_economy":
        return None
    old = [(f["flight_number"], f["date"]) for f in r["flights"]]
    new = [(f["flight_number"], f["date"]) for f in ctx.args["flights"]]
    return None if old == new else "a basic economy reservation's flights cannot change"


@RULES.rule("same_trip_when_changing_flights", tools=("update_reservation_flights",))
def same_trip_when_changing_flights(ctx: RuleContext) -> str | None:
    """Changed flights keep the reservation's origin, destination and trip type."""
    r = _reservation(ctx)
    if r is None or not ctx.args["flights"]:
        return None
    legs = []
    for f in ctx.args["flights"]:
        info = records.flight(ctx.db, f["flight_number"])
        if info is None:
            return None  # the tool reports unknown flights
        legs.append(info)
    start, end = legs[0]["origin"], legs[-1]["destination"]
    stops = {leg["destination"] for leg in legs}
    if start != r["origin"]:
        return f"the trip would start at {start}, not {r['origin']}"
    if r["flight_type"] == "one_way" and end != r["destination"]:
        return f"the trip would end at {end}, not {r['destination']}"
    if r["flight_type"] == "round_trip" and (end != r["origin"] or r["destination"] not in stops):
        return f"the round trip would no longer go {r['origin']}-{r['destination']}-{r['origin']}"
    return None


@RULES.rule("change_only_unflown", tools=("update_reservation_flights",))
def change_only_unflown(ctx: RuleContext) -> str | None:
    """Flights already flown cannot be changed."""
    r = _reservation(ctx)
    if r is None:
        return None
    kept = {(f["flight_number"], f["date"]) for f in ctx.args["flights"]}
    dropped = [f for f in r["flights"] if (f["flight_number"], f["date"]) not in kept]
    flown = _flown(ctx.db, {"flights": dropped})
    return f"flown segments would change: {', '.join(flown)}" if flown else None


@RULES.rule("change_paid_by_card_or_gift_card", tools=PAYING_TOOLS)
def change_paid_by_card_or_gift_card(ctx: RuleContext) -> str | None:
    """Changes are paid (or refunded) with one credit card or gift card from the profile."""
    r = _reservation(ctx)
    if r is None:
        return None
    method = records.payment_methods(ctx.db, r["user_id"]).get(ctx.args["payment_id"])
    if method is None:
        return f"payment method {ctx.args['payment_id']} is not in the customer's profile"
    if method["source"] not in ("credit_card", "gift_card"):
        return f"a {method['source']} cannot pay for a change"
    return None


@RULES.rule("bags_only_added", tools=("update_reservation_baggages",))
def bags_only_added(ctx: RuleContext) -> str | None:
    """Checked bags can be added, never removed."""
    r = _reservation(ctx)
    if r and ctx.args["total_baggages"] < r["total_baggages"]:
        return f"bags would go from {r['total_baggages']} to {ctx.args['total_baggages']}"
    return None


@RULES.rule("passenger_count_fixed", tools=("update_reservation_passengers",))
def passenger_count_fixed(ctx: RuleContext) -> str | None:
    """The number of passengers of a reservation cannot change."""
    r = _reservation(ctx)
    if r and len(ctx.args["passengers"]) != len(r["passengers"]):
        return f"{len(r['passengers'])} passengers would become {len(ctx.args['passengers'])}"
    return None


@RULES.rule("at_most_five_passengers", tools=("book_reservation",))
def at_most_five_passengers(ctx: RuleContext) -> str | None:
    """A reservation has one to five passengers."""
    n = len(ctx.args["passengers"])
    return None if 1 <= n <= 5 else f"{n} passengers (one to five allowed)"


@RULES.rule("payment_method_limits", tools=("book_reservation",))
def payment_method_limits(ctx: RuleContext) -> str | None:
    """At most one travel certificate, one credit card and three gift cards, all from the
    customer's profile."""
    methods = records.payment_methods(ctx.db, ctx.args["user_id"])
    sources = Counter()
    for p in ctx.args["payment_methods"]:
        method = methods.get(p["payment_id"])
        if method is None:
            return f"payment method {p['payment_id']} is not in the customer's profile"
        sources[method["source"]] += 1
    limits = {"certificate": 1, "credit_card": 1, "gift_card": 3}
    over = [f"{n} {s}s" for s, n in sources.items() if n > limits.get(s, 0)]
    return f"too many payment methods: {', '.join(over)}" if over else None


@RULES.rule("baggage_allowance", tools=("book_reservation",))
def baggage_allowance(ctx: RuleContext) -> str | None:
    """Free bags per passenger follow membership and cabin; each extra bag is paid."""
    user = records.user(ctx.db, ctx.args["user_id"])
    if user is None:
        return None
    free = FREE_BAGS[user["membership"]][ctx.args["cabin"]] * len(ctx.args["passengers"])
    expected = max(0, ctx.args["total_baggages"] - free)
    if ctx.args["nonfree_baggages"] != expected:
        return (
            f"{ctx.args['total_baggages']} bags with {free} free means {expected} paid, "
            f"not {ctx.args['nonfree_baggages']}"
        )
    return None


@RULES.rule("certificate_only_when_eligible", tools=("send_certificate",))
def certificate_only_when_eligible(ctx: RuleContext) -> str | None:
    """A goodwill certificate only for silver/gold members, or travellers with insurance or
    in business: $100 per passenger for a cancelled flight, $50 for a delay."""
    user = records.user(ctx.db, ctx.args["user_id"])
    if user is None:
        return None
    held = [records.reservation(ctx.db, r) for r in user["reservations"]]
    eligible = [
        r
        for r in held
        if r
        and (
            user["membership"] in ("silver", "gold")
            or r["insurance"] == "yes"
            or r["cabin"] == "business"
        )
    ]
    if not eligible:
        return "the customer is a regular member without insurance or business reservations"
    most = max(100 * len(r["passengers"]) for r in eligible)
    amount = ctx.args["amount"]
    if amount <= 0 or amount % 50 or amount > most:
        return f"a certificate of {amount} is not $50 or $100 per passenger"
    return None
