"""The 14 airline tools, matching τ-bench's names, arguments, effects and error texts.

As in τ-bench, the tools check only what they need to run (existence, seats, balances,
sums); cancellation eligibility, basic-economy limits and the like are the agent's job and
live in rules.py.
"""

from __future__ import annotations

import copy
import json
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from sqlite_utils import Database
from typing_extensions import TypedDict

from apigen_mt.environments.common_tools import calculate, think, transfer_to_human_agents
from apigen_mt.tools import ToolError, as_sent, tool

from . import records

NOW = "2024-05-15T15:00:00"  # τ-bench's fixed "current time" (EST)
NEW_RESERVATION_IDS = ("HATHAT", "HATHAU", "HATHAV")  # τ-bench's fixed sequence
NEW_CERTIFICATE_IDS = (3221322, 3221323, 3221324)
AIRPORTS = {
    "SFO": "San Francisco",
    "JFK": "New York",
    "LAX": "Los Angeles",
    "ORD": "Chicago",
    "DFW": "Dallas",
    "DEN": "Denver",
    "SEA": "Seattle",
    "ATL": "Atlanta",
    "MIA": "Miami",
    "BOS": "Boston",
    "PHX": "Phoenix",
    "IAH": "Houston",
    "LAS": "Las Vegas",
    "MCO": "Orlando",
    "EWR": "Newark",
    "CLT": "Charlotte",
    "MSP": "Minneapolis",
    "DTW": "Detroit",
    "PHL": "Philadelphia",
    "LGA": "LaGuardia",  # τ-bench's own text (LaGuardia is in New York)
}

# Tolerance as τ-bench's: nested objects keep extra keys (τ-bench stores the passengers,
# payments and flight entries it is given, extra keys included), and numbers are taken as
# sent — 100 and 100.0 stay apart (τ-bench's hash tells them apart), a string amount fails
# where τ-bench's arithmetic fails and is stored where τ-bench stores it.
_AS_TAUBENCH = ConfigDict(extra="allow")


class FlightRef(TypedDict):
    __pydantic_config__ = _AS_TAUBENCH  # type: ignore[misc]
    flight_number: Annotated[str, Field(description="Flight number, such as 'HAT001'.")]
    date: Annotated[str, Field(description="The date, in the format 'YYYY-MM-DD'.")]


class Passenger(TypedDict):
    __pydantic_config__ = _AS_TAUBENCH  # type: ignore[misc]
    first_name: Annotated[str, Field(description="The first name of the passenger.")]
    last_name: Annotated[str, Field(description="The last name of the passenger.")]
    dob: Annotated[str, Field(description="Date of birth, in the format 'YYYY-MM-DD'.")]


class Payment(TypedDict):
    __pydantic_config__ = _AS_TAUBENCH  # type: ignore[misc]
    payment_id: Annotated[str, Field(description="Payment id, such as 'credit_card_7815826'.")]
    amount: as_sent(int | float, "The amount to pay with this method.")


UserId = Annotated[str, Field(description="The user id, such as 'sara_doe_496'.")]
ReservationId = Annotated[str, Field(description="The reservation id, such as '8JX2WO'.")]
Airport = Annotated[str, Field(description="IATA code of an airport, such as 'JFK'.")]
Date = Annotated[str, Field(description="The date, in the format 'YYYY-MM-DD'.")]
# Not checked, as in τ-bench: an unknown cabin fails at the seat look-up, an unknown trip
# type or insurance answer is stored as given.
Cabin = as_sent(Literal["basic_economy", "economy", "business"], "Cabin.")
PaymentId = Annotated[
    str, Field(description="Payment id in the user's profile, such as 'gift_card_7815826'.")
]
Count = as_sent(int, "A number of bags.")


def _reservation(db: Database, reservation_id: str) -> dict[str, Any]:
    found = records.reservation(db, reservation_id)
    if found is None:
        raise ToolError("reservation not found")
    return found


def _priced(db: Database, flights: list[dict], cabin: str, passengers: int) -> int | float:
    """Fill in each flight's price, origin and destination; the total for all passengers."""
    total: int | float = 0
    for f in flights:
        number = f["flight_number"]
        info = records.flight(db, number)
        if info is None:
            raise ToolError(f"flight {number} not found")
        day = records.flight_date(db, number, f["date"])
        if day is None:
            raise ToolError(f"flight {number} not found on date {f['date']}")
        if day["status"] != "available":
            raise ToolError(f"flight {number} not available on date {f['date']}")
        if day["available_seats"][cabin] < passengers:
            raise ToolError(f"not enough seats on flight {number}")
        f["price"] = day["prices"][cabin]
        f["origin"] = info["origin"]
        f["destination"] = info["destination"]
        total += f["price"] * passengers
    return total


@tool(writes=True)
def book_reservation(
    db: Database,
    user_id: UserId,
    origin: Airport,
    destination: Airport,
    flight_type: as_sent(Literal["one_way", "round_trip"], "Trip type."),
    cabin: Cabin,
    flights: Annotated[list[FlightRef], Field(description="Every flight of the trip, in order.")],
    passengers: Annotated[list[Passenger], Field(description="Every passenger.")],
    payment_methods: Annotated[list[Payment], Field(description="How the total is paid.")],
    total_baggages: Count,
    nonfree_baggages: Count,
    insurance: as_sent(Literal["yes", "no"], "Travel insurance."),
) -> dict:
    """Book a reservation.

    List the details and get the user's explicit confirmation (yes) first.
    """
    user = records.user(db, user_id)
    if user is None:
        raise ToolError("user not found")
    taken = {r for r in NEW_RESERVATION_IDS if records.reservation(db, r) is not None}
    reservation_id = next((r for r in NEW_RESERVATION_IDS if r not in taken), "HATHAV")
    flights = copy.deepcopy(flights)
    total = _priced(db, flights, cabin, len(passengers))
    if insurance == "yes":
        total += 30 * len(passengers)
    total += 50 * nonfree_baggages
    methods = user["payment_methods"]
    for p in payment_methods:
        method = methods.get(p["payment_id"])
        if method is None:
            raise ToolError(f"payment method {p['payment_id']} not found")
        if method["source"] in ("gift_card", "certificate") and method["amount"] < p["amount"]:
            raise ToolError(f"not enough balance in payment method {p['payment_id']}")
    paid = sum(p["amount"] for p in payment_methods)
    if paid != total:
        raise ToolError(f"payment amount does not add up, total price is {total}, but paid {paid}")
    for p in payment_methods:
        method = methods.get(p["payment_id"])
        if method is None:
            # τ-bench's quirk: a certificate listed twice is deleted, then looked up again
            # (KeyError) after the payments before it were taken: the call fails with them
            # kept and no reservation.
            raise ToolError(repr(p["payment_id"]), keep_writes=True)
        if method["source"] == "gift_card":
            method["amount"] -= p["amount"]
            records.set_payment_amount(db, user_id, p["payment_id"], method["amount"])
        elif method["source"] == "certificate":
            records.delete_payment_method(db, user_id, p["payment_id"])
            del methods[p["payment_id"]]
    reservation = {
        "reservation_id": reservation_id,
        "user_id": user_id,
        "origin": origin,
        "destination": destination,
        "flight_type": flight_type,
        "cabin": cabin,
        "flights": flights,
        "passengers": passengers,
        "payment_history": payment_methods,
        "created_at": NOW,
        "total_baggages": total_baggages,
        "nonfree_baggages": nonfree_baggages,
        "insurance": insurance,
    }
    records.save_reservation(db, reservation)
    records.set_user_reservations(db, user_id, [*user["reservations"], reservation_id])
    return reservation


@tool(writes=True)
def cancel_reservation(db: Database, reservation_id: ReservationId) -> dict:
    """Cancel the whole reservation.

    Check the cancellation rules and get the user's explicit confirmation (yes) first.
    Every payment is reversed (refunds in 5 to 7 business days).
    """
    reservation = _reservation(db, reservation_id)
    refunds = [
        {"payment_id": p["payment_id"], "amount": -p["amount"]}
        for p in reservation["payment_history"]
    ]
    reservation["payment_history"].extend(refunds)
    reservation["status"] = "cancelled"
    records.save_reservation(db, reservation)
    return reservation


@tool()
def get_reservation_details(db: Database, reservation_id: ReservationId) -> dict:
    """Get the details of a reservation."""
    found = records.reservation(db, reservation_id)
    if found is None:
        raise ToolError("user not found")  # sic: τ-bench's text for a missing reservation
    return found


@tool()
def get_user_details(db: Database, user_id: UserId) -> dict:
    """Get the details of a user, including their reservations."""
    user = records.user(db, user_id)
    if user is None:
        raise ToolError("user not found")
    return user


@tool()
def list_all_airports(db: Database) -> str:
    """List all airports and their cities."""
    return json.dumps(AIRPORTS)


def _leg(flight: dict[str, Any], day: dict[str, Any]) -> dict[str, Any]:
    return {**flight, **day}


@tool()
def search_direct_flight(db: Database, origin: Airport, destination: Airport, date: Date) -> str:
    """Search direct flights between two cities on a specific date."""
    results = []
    for f in records.flights_where(db, "origin = ? AND destination = ?", (origin, destination)):
        day = records.flight_date(db, f["flight_number"], date)
        if day is not None and day["status"] == "available":
            results.append(_leg(f, day))
    return json.dumps(results)


@tool()
def search_onestop_flight(db: Database, origin: Airport, destination: Airport, date: Date) -> str:
    """Search one-stop flights between two cities on a specific date (the second leg may
    leave the next day)."""
    results = []
    arriving = records.flights_where(db, "destination = ?", (destination,))
    for first in records.flights_where(db, "origin = ?", (origin,)):
        for second in arriving:
            if first["destination"] != second["origin"]:
                continue
            # τ-bench's quirks, kept for parity: the next day's date is not zero-padded, and
            # the second leg's details are read with the first leg's date.
            next_day = "+1" in first["scheduled_arrival_time_est"]
            date2 = f"2024-05-{int(date[-2:]) + 1}" if next_day else date
            if first["scheduled_arrival_time_est"] > second["scheduled_departure_time_est"]:
                continue
            day1 = records.flight_date(db, first["flight_number"], date)
            day2 = records.flight_date(db, second["flight_number"], date2)
            if day1 and day2 and day1["status"] == "available" == day2["status"]:
                shown2 = records.flight_date(db, second["flight_number"], date) or {}
                results.append(
                    [{**_leg(first, day1), "date": date}, {**_leg(second, shown2), "date": date2}]
                )
    return json.dumps(results)


@tool(writes=True)
def send_certificate(
    db: Database,
    user_id: UserId,
    amount: as_sent(int | float, "Certificate amount to send."),
) -> str:
    """Send a certificate to a user. Be careful: only as the policy allows."""
    user = records.user(db, user_id)
    if user is None:
        raise ToolError("user not found")
    for number in NEW_CERTIFICATE_IDS:
        payment_id = f"certificate_{number}"
        if payment_id not in user["payment_methods"]:
            records.add_payment_method(
                db, user_id, {"source": "certificate", "amount": amount, "id": payment_id}
            )
            return f"Certificate {payment_id} added to user {user_id} with amount {amount}."
    return "None"  # τ-bench returns None once its three certificate ids are used


def _payment_for_change(db: Database, reservation: dict, payment_id: str, total) -> dict:
    method = records.payment_methods(db, reservation["user_id"]).get(payment_id)
    if method is None:
        raise ToolError("payment method not found")
    if method["source"] == "certificate":
        raise ToolError("certificate cannot be used to update reservation")
    if method["source"] == "gift_card" and method["amount"] < total:
        raise ToolError("gift card balance is not enough")
    return method


def _charge(db: Database, reservation: dict, payment_id: str, method: dict, total) -> None:
    if method["source"] == "gift_card":
        records.set_payment_amount(db, reservation["user_id"], payment_id, method["amount"] - total)
    if total != 0:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": total})


@tool(writes=True)
def update_reservation_baggages(
    db: Database,
    reservation_id: ReservationId,
    total_baggages: Count,
    nonfree_baggages: Count,
    payment_id: PaymentId,
) -> dict:
    """Update the baggage information of a reservation.

    Get the user's explicit confirmation (yes) first. Extra bags cost 50 dollars each.
    """
    reservation = _reservation(db, reservation_id)
    total = 50 * max(0, nonfree_baggages - reservation["nonfree_baggages"])
    method = _payment_for_change(db, reservation, payment_id, total)
    reservation["total_baggages"] = total_baggages
    reservation["nonfree_baggages"] = nonfree_baggages
    _charge(db, reservation, payment_id, method, total)
    records.save_reservation(db, reservation)
    return reservation


@tool(writes=True)
def update_reservation_flights(
    db: Database,
    reservation_id: ReservationId,
    cabin: Cabin,
    flights: Annotated[
        list[FlightRef],
        Field(description="All flights of the reservation after the change, kept ones too."),
    ],
    payment_id: PaymentId,
) -> dict:
    """Update the flight information of a reservation.

    Check the modification rules and get the user's explicit confirmation (yes) first.
    """
    reservation = _reservation(db, reservation_id)
    passengers = len(reservation["passengers"])
    flights = copy.deepcopy(flights)
    total: int | float = 0
    for f in flights:
        kept = [
            old
            for old in reservation["flights"]
            if old["flight_number"] == f["flight_number"]
            and old["date"] == f["date"]
            and cabin == reservation["cabin"]
        ]
        if kept:  # an unchanged segment keeps the price it was bought at
            f.update(price=kept[0]["price"], origin=kept[0]["origin"])
            f["destination"] = kept[0]["destination"]
            total += kept[0]["price"] * passengers
        else:
            total += _priced(db, [f], cabin, passengers)
    total -= sum(f["price"] for f in reservation["flights"]) * passengers
    method = _payment_for_change(db, reservation, payment_id, total)
    reservation["flights"] = flights
    _charge(db, reservation, payment_id, method, total)
    records.save_reservation(db, reservation)
    return reservation


@tool(writes=True)
def update_reservation_passengers(
    db: Database,
    reservation_id: ReservationId,
    passengers: Annotated[list[Passenger], Field(description="Every passenger, updated.")],
) -> dict:
    """Update the passenger information of a reservation (their number cannot change).

    Get the user's explicit confirmation (yes) first.
    """
    reservation = _reservation(db, reservation_id)
    if len(passengers) != len(reservation["passengers"]):
        raise ToolError("number of passengers does not match")
    reservation["passengers"] = passengers
    records.save_reservation(db, reservation)
    return reservation


TOOLS = [
    book_reservation,
    calculate,
    cancel_reservation,
    get_reservation_details,
    get_user_details,
    list_all_airports,
    search_direct_flight,
    search_onestop_flight,
    send_certificate,
    think,
    transfer_to_human_agents,
    update_reservation_baggages,
    update_reservation_flights,
    update_reservation_passengers,
]
