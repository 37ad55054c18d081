"""Airline tables: τ-bench's users/flights/reservations JSON, normalised where it helps.

Payment methods and flight dates get rows of their own (so a diff names the gift card or
the flight date that changed); the lists inside a reservation (flights, passengers,
payment history) are JSON columns, which keep their order and number types exactly.
"""

from apigen_mt.environments.schema import Schema, Table

ADDRESS_FIELDS = ("address1", "address2", "city", "country", "state", "zip")

SCHEMA = Schema(
    tables=(
        Table(
            "users",
            {
                "user_id": "text",
                "first_name": "text",
                "last_name": "text",
                "email": "text",
                "dob": "text",
                "membership": "text",
                **{c: "text" for c in ADDRESS_FIELDS},
                "saved_passengers": "json",
                "reservations": "json",
            },
            pk=("user_id",),
        ),
        Table(
            "payment_methods",
            {
                "user_id": "text",
                "payment_method_id": "text",
                "position": "int",
                "source": "text",
                "brand": "text",
                "last_four": "text",
                "amount": "num",
            },
            pk=("user_id", "payment_method_id"),
        ),
        Table(
            "flights",
            {
                "flight_number": "text",
                "origin": "text",
                "destination": "text",
                "scheduled_departure_time_est": "text",
                "scheduled_arrival_time_est": "text",
            },
            pk=("flight_number",),
        ),
        Table(
            "flight_dates",
            {
                "flight_number": "text",
                "date": "text",
                "status": "text",
                "details": "json",  # seats and prices, or actual/estimated times
            },
            pk=("flight_number", "date"),
        ),
        Table(
            "reservations",
            {
                "reservation_id": "text",
                "user_id": "text",
                "origin": "text",
                "destination": "text",
                "flight_type": "text",
                "cabin": "text",
                "flights": "json",
                "passengers": "json",
                "payment_history": "json",
                "created_at": "text",
                "total_baggages": "num",
                "nonfree_baggages": "num",
                "insurance": "text",
                "status": "text",  # absent in τ-bench until a cancellation sets it
            },
            pk=("reservation_id",),
        ),
    )
)
