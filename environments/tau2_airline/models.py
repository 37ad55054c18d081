"""The argument and record models τ²'s airline tools validate through, under τ²'s names.

τ²'s tools turn JSON arguments into these pydantic models (extra keys dropped, `amount`
an int) and build reservations from them, so their validation errors are observations a
model sees ("1 validation error for Passenger ..."). Same class names, fields and field
order here, so the same input gives the same text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

FlightType = Literal["round_trip", "one_way"]
CabinClass = Literal["business", "economy", "basic_economy"]
Insurance = Literal["yes", "no"]


class FlightInfo(BaseModel):
    flight_number: str
    date: str


class Passenger(BaseModel):
    first_name: str
    last_name: str
    dob: str


class Payment(BaseModel):
    payment_id: str
    amount: int


class Certificate(BaseModel):
    source: Literal["certificate"]
    id: str
    amount: float


class ReservationFlight(BaseModel):
    flight_number: str
    origin: str
    destination: str
    date: str
    price: int


class Reservation(BaseModel):
    reservation_id: str
    user_id: str
    origin: str
    destination: str
    flight_type: FlightType
    cabin: CabinClass
    flights: list[ReservationFlight]
    passengers: list[Passenger]
    payment_history: list[Payment]
    created_at: str
    total_baggages: int
    nonfree_baggages: int
    insurance: Insurance
    status: Literal["cancelled"] | None = None
