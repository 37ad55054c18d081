"""τ²'s `TelecomEnvironment.sync_tools`, after every call on either side: the phone learns
from the carrier's records whether its line is active, may roam and is over its data, and
a payment the user made settles the bill (and the next bill awaiting payment becomes the
user's payment request)."""

from __future__ import annotations

from sqlite_utils import Database

from .models import LineStatus, PaymentRequest
from .records import save_user, surroundings
from .tools import (
    bills_awaiting_payment,
    customer_by_phone,
    line_by_phone,
    plan_by_id,
    set_bill_paid,
)


def sync(db: Database) -> None:
    around = surroundings(db)
    number = around.phone_number
    if number is None:
        return
    try:
        line = line_by_phone(db, number)
        around.line_active = line.status == LineStatus.ACTIVE
        around.roaming_allowed = bool(line.roaming_enabled)
        plan = plan_by_id(db, line.plan_id)
        around.mobile_data_usage_exceeded = (
            line.data_used_gb >= plan.data_limit_gb + line.data_refueling_gb
        )
        if around.payment_request is not None and around.payment_request.paid:
            set_bill_paid(db, around.payment_request.bill_id)
            around.payment_request = None
        if around.payment_request is None:
            waiting = bills_awaiting_payment(db, customer_by_phone(db, number))
            if waiting:
                around.payment_request = PaymentRequest(
                    bill_id=waiting[0].bill_id, amount_due=waiting[0].total_due
                )
    finally:  # τ²: what changed before a failing look-up stays changed
        save_user(db, around=around)
