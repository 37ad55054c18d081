"""The carrier's side of τ²'s telecom: the agent's 13 tools, the functions τ²'s tasks set
the scene with (`set_data_usage`, `suspend_line_for_overdue_bill`) and its assertions.

τ²'s checks, its error texts and its observations (`render`: models dumped, numbers as
text inside dicts, as τ²'s `to_json_str` does). Quirks kept, marked "τ²:". One deliberate
difference: a new draft bill's id is `B` and 8 hex digits from the count of bills (τ²
draws them from uuid4, so its own hashes of such states never repeat); the parity tests
have τ² draw them the same way.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlite_utils import Database

from apigen_mt.environments.common_tools import transfer_to_human_agents as _v1_transfer
from apigen_mt.tools import ToolError, as_sent, tool

from .models import TODAY, Bill, BillStatus, Customer, Line, LineItem, LineStatus
from .records import load, load_all, render, save

CustomerId = as_sent(str, "The customer's id, such as 'C1001'.")
LineId = as_sent(str, "The line's id, such as 'L1001'.")
PhoneNumber = as_sent(str, "A phone number, such as '555-123-2002'.")


# ---- look-ups (τ²'s private helpers) -------------------------------------------------
def customer_by_id(db: Database, customer_id: str) -> Customer:
    found = load(db, "customers", customer_id)
    if found is None:
        raise ToolError(f"Customer with ID {customer_id} not found")
    return found


def _record(db: Database, collection: str, key: str, what: str):
    found = load(db, collection, key)
    if found is None:
        raise ToolError(f"{what} with ID {key} not found")
    return found


def line_by_id(db: Database, line_id: str) -> Line:
    return _record(db, "lines", line_id, "Line")


def plan_by_id(db: Database, plan_id: str):
    return _record(db, "plans", plan_id, "Plan")


def line_by_phone(db: Database, phone_number: str) -> Line:
    for line in load_all(db, "lines"):
        if line.phone_number == phone_number:
            return line
    raise ToolError(f"Line with phone number {phone_number} not found")


def target_line(db: Database, customer_id: str, line_id: str) -> Line:
    customer = customer_by_id(db, customer_id)
    if line_id not in customer.line_ids:
        raise ToolError(f"Line {line_id} not found for customer {customer_id}")
    return line_by_id(db, line_id)


def bills_awaiting_payment(db: Database, customer: Customer) -> list[Bill]:
    bills = [_record(db, "bills", b, "Bill") for b in customer.bill_ids]
    return [b for b in bills if b.status == BillStatus.AWAITING_PAYMENT]


def customer_by_phone(db: Database, phone_number: str) -> Customer:
    for customer in load_all(db, "customers"):
        if customer.phone_number == phone_number:
            return customer
        for line_id in customer.line_ids:
            if line_by_id(db, line_id).phone_number == phone_number:
                return customer
    raise ToolError(f"Customer with phone number {phone_number} not found")


# ---- the agent's tools ---------------------------------------------------------------
@tool()
def get_customer_by_phone(db: Database, phone_number: PhoneNumber) -> str:
    """Finds a customer by their primary contact or line phone number."""
    return render(customer_by_phone(db, phone_number))


@tool()
def get_customer_by_id(db: Database, customer_id: CustomerId) -> str:
    """Retrieves a customer directly by their unique ID."""
    return render(customer_by_id(db, customer_id))


@tool()
def get_customer_by_name(
    db: Database,
    full_name: as_sent(str, "The full name of the customer."),
    dob: as_sent(str, "Date of birth for verification, in the format YYYY-MM-DD."),
) -> str:
    """Searches for customers by name and DOB. May return multiple matches if names are
    similar, DOB helps disambiguate."""
    return render(
        [
            c
            for c in load_all(db, "customers")
            if c.full_name.lower() == full_name.lower() and c.date_of_birth == dob
        ]
    )


@tool()
def get_details_by_id(
    db: Database,
    id: as_sent(str, "The ID of the object to retrieve: a customer, line, device, bill or plan."),
) -> str:
    """Retrieves the details for a given ID. The ID must be a valid ID for a Customer, Line,
    Device, Bill, or Plan."""
    for prefix, collection, what in (
        ("L", "lines", "Line"), ("D", "devices", "Device"), ("B", "bills", "Bill"),
    ):  # fmt: skip
        if id.startswith(prefix):
            return render(_record(db, collection, id, what))
    if id.startswith("C"):
        return render(customer_by_id(db, id))
    if id.startswith("P"):
        return render(plan_by_id(db, id))
    raise ToolError(f"Unknown ID format or type: {id}")


@tool(writes=True)
def suspend_line(
    db: Database,
    customer_id: CustomerId,
    line_id: LineId,
    reason: as_sent(str, "The reason for the suspension."),
) -> str:
    """Suspends a specific line (max 6 months). Checks: Line status must be Active. Logic:
    Sets line status to Suspended, records suspension_start_date."""
    line = target_line(db, customer_id, line_id)
    if line.status != LineStatus.ACTIVE:
        raise ToolError("Line must be active to suspend")
    line.status, line.suspension_start_date = LineStatus.SUSPENDED, TODAY
    save(db, "lines", line)
    return render(
        {"message": "Line suspended successfully. $5/month holding fee will apply.", "line": line}
    )


@tool(writes=True)
def resume_line(db: Database, customer_id: CustomerId, line_id: LineId) -> str:
    """Resumes a suspended line. Checks: Line status must be Suspended or Pending
    Activation. Logic: Sets line status to Active, clears suspension_start_date."""
    line = target_line(db, customer_id, line_id)
    if line.status not in (LineStatus.SUSPENDED, LineStatus.PENDING_ACTIVATION):
        raise ToolError("Line must be suspended to resume")
    line.status, line.suspension_start_date = LineStatus.ACTIVE, None
    save(db, "lines", line)
    return render({"message": "Line resumed successfully", "line": line})


@tool()
def get_bills_for_customer(
    db: Database,
    customer_id: CustomerId,
    limit: as_sent(int, "Maximum number of bills to return.") = 12,
) -> str:
    """Retrieves a list of the customer's bills, most recent first."""
    customer = customer_by_id(db, customer_id)
    bills = [_record(db, "bills", b, "Bill") for b in customer.bill_ids]
    try:
        return render(sorted(bills, key=lambda b: b.issue_date, reverse=True)[:limit])
    except TypeError as exc:  # τ²: a limit that is not an int fails in Python's slicing
        raise ToolError(str(exc)) from None


@tool(writes=True)
def send_payment_request(
    db: Database,
    customer_id: CustomerId,
    bill_id: as_sent(str, "The bill's id, such as 'B1001'."),
) -> str:
    """Sends a payment request to the customer for a specific bill. Checks: the customer
    exists; the bill exists and belongs to the customer; no other bill is already awaiting
    payment for this customer. Logic: sets the bill status to AWAITING_PAYMENT and notifies
    the customer. Warning: this does not check whether the bill is already PAID; always
    check the bill status first."""
    customer = customer_by_id(db, customer_id)
    if bills_awaiting_payment(db, customer):
        raise ToolError("A bill is already awaiting payment for this customer")
    if bill_id not in customer.bill_ids:
        raise ToolError(f"Bill {bill_id} not found for customer {customer_id}")
    bill = _record(db, "bills", bill_id, "Bill")
    bill.status = BillStatus.AWAITING_PAYMENT
    save(db, "bills", bill)
    return f"Payment request sent to the customer for bill {bill.bill_id}"


@tool()
def get_data_usage(db: Database, customer_id: CustomerId, line_id: LineId) -> str:
    """Retrieves current billing cycle data usage for a line, including data refueling
    amount, data limit, and cycle end date."""
    line = target_line(db, customer_id, line_id)
    plan = plan_by_id(db, line.plan_id)
    end = date(TODAY.year, TODAY.month + 1 if TODAY.month < 12 else 1, 1) - timedelta(days=1)
    return render(
        {
            "line_id": line_id,
            "data_used_gb": line.data_used_gb,
            "data_limit_gb": plan.data_limit_gb,
            "data_refueling_gb": line.data_refueling_gb,
            "cycle_end_date": end,
        }
    )


def _set_roaming(db: Database, customer_id: str, line_id: str, on: bool) -> str:
    line = target_line(db, customer_id, line_id)
    if line.roaming_enabled == on:
        return f"Roaming was already {'enabled' if on else 'disabled'}"
    line.roaming_enabled = on
    save(db, "lines", line)
    return f"Roaming {'enabled' if on else 'disabled'} successfully"


@tool(writes=True)
def enable_roaming(db: Database, customer_id: CustomerId, line_id: LineId) -> str:
    """Enables international roaming on a line."""
    return _set_roaming(db, customer_id, line_id, True)


@tool(writes=True)
def disable_roaming(db: Database, customer_id: CustomerId, line_id: LineId) -> str:
    """Disables international roaming on a line."""
    return _set_roaming(db, customer_id, line_id, False)


@tool(writes=True)
def refuel_data(
    db: Database,
    customer_id: CustomerId,
    line_id: LineId,
    gb_amount: as_sent(float, "Amount of data to add in gigabytes."),
) -> str:
    """Refuels data for a specific line, adding to the customer's bill. Checks: Line status
    must be Active, Customer owns the line. Logic: Adds data to the line and charges the
    customer based on the plan's refueling rate."""
    line = target_line(db, customer_id, line_id)
    try:
        if gb_amount <= 0:
            raise ToolError("Refuel amount must be positive")
    except TypeError as exc:  # τ²: plain Python on what arrived
        raise ToolError(str(exc)) from None
    plan = plan_by_id(db, line.plan_id)
    charge = gb_amount * plan.data_refueling_price_per_gb
    line.data_refueling_gb += gb_amount
    save(db, "lines", line)
    rate = plan.data_refueling_price_per_gb
    one_time_charge(db, customer_id, charge, f"Data refueling: {gb_amount} GB at ${rate}/GB")
    return render(
        {
            "message": f"Successfully added {gb_amount} GB of data for line {line_id} for "
            f"${charge:.2f}",
            "new_data_refueling_gb": line.data_refueling_gb,
            "charge": charge,
        }
    )


transfer_to_human_agents = _v1_transfer

TOOLS = [
    get_customer_by_phone, get_customer_by_id, get_customer_by_name, get_details_by_id,
    suspend_line, resume_line, get_bills_for_customer, send_payment_request, get_data_usage,
    enable_roaming, disable_roaming, transfer_to_human_agents, refuel_data,
]  # fmt: skip


# ---- bills ---------------------------------------------------------------------------
def one_time_charge(db: Database, customer_id: str, amount: float, description: str) -> None:
    """τ²'s _apply_one_time_charge: a line item on the customer's draft bill (a new draft
    bill for next month when there is none)."""
    customer = customer_by_id(db, customer_id)
    draft = next(
        (
            b
            for b in (_record(db, "bills", i, "Bill") for i in customer.bill_ids)
            if b.status == BillStatus.DRAFT
        ),
        None,
    )
    if draft is None:
        start = (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1)
        following = start.replace(
            month=start.month + 1 if start.month < 12 else 1,
            year=start.year if start.month < 12 else start.year + 1,
        )
        draft = Bill(
            bill_id=new_bill_id(db),
            customer_id=customer_id,
            period_start=start,
            period_end=following - timedelta(days=1),
            issue_date=start,
            total_due=0,
            due_date=start + timedelta(days=14),
            status=BillStatus.DRAFT,
        )
        customer.bill_ids.append(draft.bill_id)
        save(db, "customers", customer)
    kind = "Credit" if amount < 0 else "Charge"
    draft.line_items.append(
        LineItem(description=description, amount=amount, date=TODAY, item_type=kind)
    )
    draft.total_due += amount
    save(db, "bills", draft)


def new_bill_id(db: Database) -> str:
    """`B` and 8 hex digits from the count of bills (see the module's docstring)."""
    (count,) = db.execute("SELECT COUNT(*) FROM bills").fetchone()
    return f"B{count + 1:08x}"


def set_bill_paid(db: Database, bill_id: str) -> None:
    bill = _record(db, "bills", bill_id, "Bill")
    bill.status = BillStatus.PAID
    save(db, "bills", bill)
