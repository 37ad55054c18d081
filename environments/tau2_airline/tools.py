"""τ²'s 14 airline tools over the v1 tables: τ²'s checks, error texts and quirks.

Where τ² differs from τ-bench v1 (each marked "τ²:" below): nested arguments become
pydantic models (models.py: extra keys dropped, `Payment.amount` an int, a new reservation
validated whole), errors are its exception texts ("Reservation ZFA04Y not found"), a
booking takes the seats it books, a flight change sets the new cabin, observations are
the models' dumps (nulls kept), and `get_flight_status` is new while `think` is gone.
Counts are taken as sent: τ² does plain arithmetic on them and stores them as given.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlite_utils import Database

from apigen_mt.environments.airline import records as v1
from apigen_mt.environments.airline.tools import (
    AIRPORTS,
    NEW_CERTIFICATE_IDS,
    NEW_RESERVATION_IDS,
    NOW,
)
from apigen_mt.environments.common_tools import transfer_to_human_agents
from apigen_mt.environments.tau2_retail.tools import calculate
from apigen_mt.tools import ToolError, as_sent, tool

from ..tau2.lookup import looked_up
from . import models
from .records import reservation as reservation_record
from .records import user as user_record

UserId = as_sent(str, "The user id, such as 'sara_doe_496'.")
ReservationId = as_sent(str, "The reservation id, such as 'ZFA04Y'.")
Airport = as_sent(str, "IATA code of an airport, such as 'JFK'.")
Date = as_sent(str, "The date, in the format 'YYYY-MM-DD', such as '2024-05-01'.")
Cabin = as_sent(models.CabinClass, "The cabin: 'basic_economy', 'economy' or 'business'.")
PaymentId = as_sent(
    str, "A payment id in the user's profile, such as 'credit_card_7815826' or 'gift_card_7815826'."
)
Count = as_sent(int, "A number of bags.")
Flights = as_sent(list[models.FlightInfo], "Flights, each {flight_number, date}.")
Passengers = as_sent(list[models.Passenger], "Passengers, each {first_name, last_name, dob}.")


def _model(cls: type[BaseModel], **values: Any) -> BaseModel:
    """`cls(**values)` as τ² builds it; its validation error is the observation."""
    try:
        return cls(**values)
    except ValidationError as exc:
        raise ToolError(str(exc)) from None
    except TypeError as exc:  # τ²'s `cls(**x)` on a non-mapping
        raise ToolError(str(exc)) from None


def _as_models(cls: type[BaseModel], items: Any) -> list:
    """τ²'s `if all(isinstance(x, dict) ...): [cls(**x) ...]`: a list of objects becomes
    models; anything else is left as it came."""
    if all(isinstance(x, dict) for x in items):
        return [_model(cls, **x) for x in items]
    return items


def _user(db: Database, user_id: Any) -> dict[str, Any]:
    return looked_up(lambda k: user_record(db, k), user_id, f"User {user_id} not found")


def _reservation(db: Database, reservation_id: Any) -> dict[str, Any]:
    message = f"Reservation {reservation_id} not found"
    return looked_up(lambda k: reservation_record(db, k), reservation_id, message)


def _flight(db: Database, number: Any) -> dict[str, Any]:
    return looked_up(lambda k: v1.flight(db, k), number, f"Flight {number} not found")


def _flight_date(db: Database, number: Any, date: Any) -> dict[str, Any]:
    _flight(db, number)
    message = f"Flight {number} not found on date {date}"
    return looked_up(lambda d: v1.flight_date(db, number, d), date, message)


def _set_seats(db: Database, number: str, date: str, day: dict[str, Any]) -> None:
    details = {k: v for k, v in day.items() if k != "status"}
    db.execute(
        "UPDATE flight_dates SET details = ? WHERE flight_number = ? AND date = ?",
        [json.dumps(details), number, date],
    )


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


@tool(writes=True)
def book_reservation(
    db: Database,
    user_id: UserId,
    origin: Airport,
    destination: Airport,
    flight_type: as_sent(models.FlightType, "'one_way' or 'round_trip'."),
    cabin: Cabin,
    flights: Flights,
    passengers: Passengers,
    payment_methods: as_sent(list[models.Payment], "Payments, each {payment_id, amount}."),
    total_baggages: Count,
    nonfree_baggages: Count,
    insurance: as_sent(models.Insurance, "Travel insurance: 'yes' or 'no'."),
) -> dict:
    """Book a reservation.

    List the details and get the user's explicit confirmation (yes) first.
    """
    flights = _as_models(models.FlightInfo, flights)
    passengers = _as_models(models.Passenger, passengers)
    payment_methods = _as_models(models.Payment, payment_methods)
    user = _user(db, user_id)
    taken = {r for r in NEW_RESERVATION_IDS if v1.reservation(db, r) is not None}
    free = [r for r in NEW_RESERVATION_IDS if r not in taken]
    if not free:
        raise ToolError("Too many reservations")
    reservation = _model(
        models.Reservation,
        reservation_id=free[0],
        user_id=user_id,
        origin=origin,
        destination=destination,
        flight_type=flight_type,
        cabin=cabin,
        flights=[],
        passengers=copy.deepcopy(passengers),
        payment_history=copy.deepcopy(payment_methods),
        created_at=NOW,
        total_baggages=total_baggages,
        nonfree_baggages=nonfree_baggages,
        insurance=insurance,
    )
    total, days = 0, []
    for info in flights:
        number = info.flight_number
        flight = _flight(db, number)
        day = _flight_date(db, number, info.date)
        if day["status"] != "available":
            raise ToolError(f"Flight {number} not available on date {info.date}")
        if day["available_seats"][cabin] < len(passengers):
            raise ToolError(f"Not enough seats on flight {number}")
        price = day["prices"][cabin]
        reservation.flights.append(
            _model(
                models.ReservationFlight,
                origin=flight["origin"],
                destination=flight["destination"],
                flight_number=number,
                date=info.date,
                price=price,
            )
        )
        days.append((number, info.date, day))
        total += price * len(passengers)
    if insurance == "yes":
        total += 30 * len(passengers)
    total += 50 * nonfree_baggages
    methods = user["payment_methods"]
    for payment in payment_methods:
        if payment.payment_id not in methods:
            raise ToolError(f"Payment method {payment.payment_id} not found")
        method = methods[payment.payment_id]
        if method["source"] in {"gift_card", "certificate"} and method["amount"] < payment.amount:
            raise ToolError(f"Not enough balance in payment method {payment.payment_id}")
    paid = sum(p.amount for p in payment_methods)
    if paid != total:
        raise ToolError(f"Payment amount does not add up, total price is {total}, but paid {paid}")
    for payment in payment_methods:
        if payment.payment_id not in methods:
            # τ²'s quirk: a certificate listed twice is removed, then looked up again
            # (KeyError): the call fails with the payments before it taken, no reservation.
            raise ToolError(repr(payment.payment_id), keep_writes=True)
        method = methods[payment.payment_id]
        if method["source"] == "gift_card":
            method["amount"] -= payment.amount
            v1.set_payment_amount(db, user_id, payment.payment_id, method["amount"])
        elif method["source"] == "certificate":
            v1.delete_payment_method(db, user_id, payment.payment_id)
            del methods[payment.payment_id]
    for number, date, day in days:  # τ²: the booking takes its seats (v1 left them)
        day["available_seats"][cabin] -= len(passengers)
        _set_seats(db, number, date, day)
    record = reservation.model_dump()
    v1.save_reservation(db, record)
    v1.set_user_reservations(db, user_id, [*user["reservations"], record["reservation_id"]])
    return record


@tool(writes=True)
def cancel_reservation(db: Database, reservation_id: ReservationId) -> dict:
    """Cancel the whole reservation.

    Check the cancellation rules and get the user's explicit confirmation (yes) first.
    Every payment is reversed (refunds in 5 to 7 business days).
    """
    reservation = _reservation(db, reservation_id)
    refunds = [
        _model(models.Payment, payment_id=p["payment_id"], amount=-p["amount"]).model_dump()
        for p in reservation["payment_history"]
    ]
    reservation["payment_history"].extend(refunds)
    reservation["status"] = "cancelled"  # seats are not released, as in τ²
    v1.save_reservation(db, reservation)
    return reservation


@tool()
def get_reservation_details(db: Database, reservation_id: ReservationId) -> dict:
    """Get the details of a reservation."""
    return _reservation(db, reservation_id)


@tool()
def get_user_details(db: Database, user_id: UserId) -> dict:
    """Get the details of a user, including their reservations."""
    return _user(db, user_id)


@tool()
def list_all_airports(db: Database) -> list:
    """List all airports: each IATA code with its city."""
    return [{"iata": code, "city": city} for code, city in AIRPORTS.items()]


def _direct(
    db: Database, date: Any, origin: Any = None, destination: Any = None, leave_after: Any = None
) -> list[dict[str, Any]]:
    """τ²'s direct-flight search, in the order of its flights."""
    hash(date)
    rows = db.query(
        "SELECT f.flight_number, f.origin, f.destination, f.scheduled_departure_time_est, "
        "f.scheduled_arrival_time_est, d.details FROM flights f JOIN flight_dates d "
        "ON d.flight_number = f.flight_number AND d.date = ? WHERE d.status = 'available' "
        "ORDER BY f.rowid",
        [date] if isinstance(date, str) else [None],
    )
    found = []
    for row in rows:
        if origin is not None and row["origin"] != origin:
            continue
        if destination is not None and row["destination"] != destination:
            continue
        if leave_after is not None and not row["scheduled_departure_time_est"] >= leave_after:
            continue
        details = json.loads(row["details"])
        found.append(
            {
                "flight_number": row["flight_number"],
                "origin": row["origin"],
                "destination": row["destination"],
                "status": "available",
                "scheduled_departure_time_est": row["scheduled_departure_time_est"],
                "scheduled_arrival_time_est": row["scheduled_arrival_time_est"],
                "date": None,
                "available_seats": details["available_seats"],
                "prices": details["prices"],
            }
        )
    return found


@tool()
def search_direct_flight(db: Database, origin: Airport, destination: Airport, date: Date) -> list:
    """Search direct flights between two cities on a specific date."""
    return _direct(db, date, origin=origin, destination=destination)


@tool()
def search_onestop_flight(db: Database, origin: Airport, destination: Airport, date: Date) -> list:
    """Search one-stop flights between two cities on a specific date (the second leg may
    leave the next day)."""
    results = []
    for first in _direct(db, date, origin=origin):
        first["date"] = date
        # τ²'s (and τ-bench's) quirk: the next day's date is not zero-padded
        date2 = (
            f"2024-05-{int(date[-2:]) + 1}" if "+1" in first["scheduled_arrival_time_est"] else date
        )
        for second in _direct(
            db,
            date2,
            origin=first["destination"],
            destination=destination,
            leave_after=first["scheduled_arrival_time_est"],
        ):
            second["date"] = date2
            results.append([first, second])
    return results


@tool(writes=True)
def send_certificate(
    db: Database, user_id: UserId, amount: as_sent(int, "The certificate's amount.")
) -> str:
    """Send a certificate to a user. Be careful: only as the policy allows."""
    user = _user(db, user_id)
    for number in NEW_CERTIFICATE_IDS:
        payment_id = f"certificate_{number}"
        if payment_id not in user["payment_methods"]:
            record = _model(models.Certificate, id=payment_id, amount=amount, source="certificate")
            v1.add_payment_method(db, user_id, record.model_dump())
            return f"Certificate {payment_id} added to user {user_id} with amount {amount}."
    raise ToolError("Too many certificates")


def _payment_for_update(db: Database, user: dict, payment_id: Any, total: Any) -> dict | None:
    """τ²'s payment for a change: checks, then the gift card is charged *before* the
    payment record is validated (a fractional total fails with the charge kept)."""
    hash(payment_id)
    if payment_id not in user["payment_methods"]:
        raise ToolError("Payment method not found")
    method = user["payment_methods"][payment_id]
    if method["source"] == "certificate":
        raise ToolError("Certificate cannot be used to update reservation")
    if method["source"] == "gift_card" and method["amount"] < total:
        raise ToolError("Gift card balance is not enough")
    if method["source"] == "gift_card":
        v1.set_payment_amount(db, user["user_id"], payment_id, method["amount"] - total)
    if total == 0:
        return None
    try:
        return models.Payment(payment_id=payment_id, amount=total).model_dump()
    except ValidationError as exc:
        raise ToolError(str(exc), keep_writes=True) from None


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
    user = _user(db, reservation["user_id"])
    total = 50 * max(0, nonfree_baggages - reservation["nonfree_baggages"])
    payment = _payment_for_update(db, user, payment_id, total)
    if payment is not None:
        reservation["payment_history"].append(payment)
    reservation["total_baggages"] = total_baggages  # stored as sent, as τ² assigns it
    reservation["nonfree_baggages"] = nonfree_baggages
    v1.save_reservation(db, reservation)
    return reservation


@tool(writes=True)
def update_reservation_flights(
    db: Database,
    reservation_id: ReservationId,
    cabin: Cabin,
    flights: Flights,
    payment_id: PaymentId,
) -> dict:
    """Update the flight information of a reservation.

    `flights` is every flight of the reservation after the change, unchanged ones too.
    Check the modification rules and get the user's explicit confirmation (yes) first.
    """
    flights = _as_models(models.FlightInfo, flights)
    reservation = _reservation(db, reservation_id)
    user = _user(db, reservation["user_id"])
    passengers = len(reservation["passengers"])
    total, kept_or_new = 0, []
    for info in flights:
        match = next(
            (
                f
                for f in reservation["flights"]
                if f["flight_number"] == info.flight_number
                and f["date"] == info.date
                and cabin == reservation["cabin"]
            ),
            None,
        )
        if match is not None:  # an unchanged segment keeps the price it was bought at
            total += match["price"] * passengers
            kept_or_new.append(match)
            continue
        flight = _flight(db, info.flight_number)
        day = _flight_date(db, info.flight_number, info.date)
        if day["status"] != "available":
            raise ToolError(f"Flight {info.flight_number} not available on date {info.date}")
        if day["available_seats"][cabin] < passengers:
            raise ToolError(f"Not enough seats on flight {info.flight_number}")
        new = _model(
            models.ReservationFlight,
            flight_number=info.flight_number,
            date=info.date,
            price=day["prices"][cabin],
            origin=flight["origin"],
            destination=flight["destination"],
        ).model_dump()
        total += new["price"] * passengers
        kept_or_new.append(new)
    total -= sum(f["price"] for f in reservation["flights"]) * passengers
    payment = _payment_for_update(db, user, payment_id, total)
    if payment is not None:
        reservation["payment_history"].append(payment)
    reservation["flights"] = kept_or_new
    reservation["cabin"] = cabin  # τ²: the new cabin is stored (τ-bench v1 kept the old one)
    v1.save_reservation(db, reservation)
    return reservation


@tool(writes=True)
def update_reservation_passengers(
    db: Database, reservation_id: ReservationId, passengers: Passengers
) -> dict:
    """Update the passenger information of a reservation (their number cannot change).

    Get the user's explicit confirmation (yes) first.
    """
    passengers = _as_models(models.Passenger, passengers)
    reservation = _reservation(db, reservation_id)
    if len(passengers) != len(reservation["passengers"]):
        raise ToolError("Number of passengers does not match")
    reservation["passengers"] = _dump(passengers)
    v1.save_reservation(db, reservation)
    return reservation


@tool()
def get_flight_status(
    db: Database, flight_number: as_sent(str, "The flight number."), date: Date
) -> str:
    """Get the status of a flight on a date."""
    return _flight_date(db, flight_number, date)["status"]  # τ²: new in τ²


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
    transfer_to_human_agents,
    update_reservation_baggages,
    update_reservation_flights,
    update_reservation_passengers,
    get_flight_status,
]
