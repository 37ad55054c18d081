"""The functions τ²'s telecom tasks set the scene with and assert on: not tools (no one
calls them in a conversation), run by `run_setup` (initialization actions) and by the
reward's ENV_ASSERTION (env assertions), on either side, as τ²'s `run_env_function_call`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from apigen_mt.tools import ToolError

from .device import PhoneState
from .models import (
    TODAY,
    APNNames,
    Bill,
    BillStatus,
    LineItem,
    LineStatus,
    NetworkStatus,
    PerformanceLevel,
    SimStatus,
)
from .phone import _on_phone, set_permission
from .records import load, save
from .tools import _record, customer_by_id, line_by_id, plan_by_id, target_line


# ---- the carrier's side ------------------------------------------------------------
def set_data_usage(db: Database, customer_id: str, line_id: str, data_used_gb: float) -> str:
    line = target_line(db, customer_id, line_id)
    line.data_used_gb = data_used_gb
    save(db, "lines", line)
    return f"Data usage set to {data_used_gb} GB for line {line_id}"


def suspend_line_for_overdue_bill(
    db: Database, customer_id: str, line_id: str, new_bill_id: str, contract_ended: bool
) -> str:
    line = line_by_id(db, line_id)
    if line.status != LineStatus.ACTIVE:
        raise ToolError("Line must be active to suspend for unpaid bill")
    plan = plan_by_id(db, line.plan_id)
    amount = plan.price_per_month
    if amount <= 0:
        raise ToolError("Amount must be positive for overdue bill")
    customer = customer_by_id(db, customer_id)
    bills = [_record(db, "bills", b, "Bill") for b in customer.bill_ids]
    if any(b.status == BillStatus.OVERDUE for b in bills):
        raise ToolError("Customer already has an overdue bill")
    last_day = TODAY.replace(day=1) - timedelta(days=1)
    first_day = last_day.replace(day=1)
    bill = Bill(
        bill_id=new_bill_id,
        customer_id=customer_id,
        period_start=first_day,
        period_end=last_day,
        issue_date=first_day,
        total_due=0,
        due_date=first_day + timedelta(days=14),
        status=BillStatus.OVERDUE,
    )
    kind = "Charge" if amount > 0 else "Credit"
    bill.line_items.append(
        LineItem(description=f"Charge for line {line.line_id}", amount=amount, date=TODAY,
                 item_type=kind)
    )  # fmt: skip
    bill.total_due += amount
    save(db, "bills", bill)
    customer.bill_ids.append(new_bill_id)
    save(db, "customers", customer)
    line.status, line.suspension_start_date = LineStatus.SUSPENDED, TODAY
    if contract_ended:
        line.contract_end_date = last_day
    save(db, "lines", line)
    return (
        f"Line {line_id} suspended for unpaid bill {new_bill_id}. Contract ended: {contract_ended}"
    )


def assert_data_refueling_amount(
    db: Database, customer_id: str, line_id: str, expected_amount: float
) -> bool:
    return abs(target_line(db, customer_id, line_id).data_refueling_gb - expected_amount) < 1e-6


def assert_line_status(db: Database, customer_id: str, line_id: str, expected_status: Any) -> bool:
    return target_line(db, customer_id, line_id).status == expected_status


def assert_overdue_bill_exists(db: Database, customer_id: str, overdue_bill_id: str) -> bool:
    customer = customer_by_id(db, customer_id)
    if overdue_bill_id not in customer.bill_ids:
        raise ToolError(f"Overdue bill {overdue_bill_id} not found")
    if _record(db, "bills", overdue_bill_id, "Bill").status != BillStatus.OVERDUE:
        raise ToolError(f"Overdue bill {overdue_bill_id} is not overdue")
    return True


def assert_no_overdue_bill(db: Database, overdue_bill_id: str) -> bool:
    bill = load(db, "bills", overdue_bill_id)
    return bill is None or bill.status == BillStatus.PAID


FUNCTIONS = {
    f.__name__: f
    for f in (
        set_data_usage, suspend_line_for_overdue_bill, assert_data_refueling_amount,
        assert_line_status, assert_overdue_bill_exists, assert_no_overdue_bill,
    )
}  # fmt: skip


# ---- the user's side ---------------------------------------------------------------
def _scene(change: Callable[[PhoneState], Any]) -> Callable[..., Any]:
    def run(db: Database, **arguments: Any) -> Any:
        return _on_phone(db, lambda s: change(s, **arguments))

    return run


def _set_user_info(s: PhoneState, name: str, phone_number: str) -> None:
    s.around.name, s.around.phone_number = name, phone_number


def _set_user_location(s: PhoneState, abroad: bool) -> None:
    s.around.is_abroad = abroad


def _airplane(on: bool):
    def change(s: PhoneState) -> str:
        if s.toggle_airplane_mode() != on:
            s.toggle_airplane_mode()
        return f"Airplane Mode is now {'ON' if on else 'OFF'}."

    return change


def _twice_toggle(field: str, on: bool, search: bool, said: str):
    """τ²'s turn_X_on/off: toggle, and toggle back when that went the wrong way (each
    toggle searching the network, as τ²'s do)."""

    def change(s: PhoneState) -> str:
        if s.toggle(field, search) != on:
            s.toggle(field, search)
        return said

    return change


def _turn_data_on(s: PhoneState) -> str:
    s.device.data_enabled = True  # τ²: no network search here
    return "Data connection restored."


def _unseat_sim(s: PhoneState) -> str:
    s.device.sim_card_missing = True
    s.network_search()
    return "SIM card un-seated successfully."


def _lock_sim(s: PhoneState, mode: str) -> str:
    if mode == "pin":
        s.device.sim_card_status = SimStatus.LOCKED_PIN
    elif mode == "puk":
        s.device.sim_card_status = SimStatus.LOCKED_PUK
    s.network_search()
    return f"SIM card locked successfully in {mode} mode."


def _break_apn(s: PhoneState) -> str:
    s.device.active_apn_settings.apn_name = APNNames.BROKEN
    s.network_search()
    if s.device.network_connection_status != NetworkStatus.NO_SERVICE:
        raise ToolError("break_apn_settings: the phone still has service")
    return "APN settings broken. Please call reset_apn_settings() to fix."


def _break_apn_mms(s: PhoneState) -> str:
    s.device.active_apn_settings.mmsc_url = None
    return "APN MMS setting broken. Please call reset_apn_settings() to fix."


def _set_wifi_calling(s: PhoneState, enabled: bool, mms_over_wifi: bool | None = None) -> str:
    if s.device.wifi_calling_enabled != enabled:
        s.toggle("wifi_calling_enabled", search=False)
    said = f"Wi-Fi Calling is now {'ON' if enabled else 'OFF'}."
    if mms_over_wifi is not None:
        s.device.wifi_calling_mms_over_wifi = mms_over_wifi
        said += f"\nMMS over Wi-Fi is now {'ON' if mms_over_wifi else 'OFF'}."
    return said


def _break_vpn(s: PhoneState) -> str:
    s.connect_vpn()
    s.device.vpn_details.server_performance = PerformanceLevel.POOR
    return "VPN connection broken."


def _remove_permission(s: PhoneState, app_name: str, permission: str) -> tuple[bool, str]:
    return set_permission(s, app_name, permission, False)


def _speed_at_least(s: PhoneState, expected_speed: float, expected_desc: str | None = None):
    speed, label = s.speed_test()
    speed = speed or 0.0
    if expected_desc is None:
        return speed >= expected_speed
    return speed >= expected_speed and label.lower() == expected_desc.lower()


def _is(read: Callable[[PhoneState], Any]) -> Callable[..., bool]:
    """An assertion of τ²'s: `read(state) == expected_status`."""
    return _scene(lambda s, expected_status: read(s) == expected_status)


USER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "set_user_info": _scene(_set_user_info),
    "set_user_location": _scene(_set_user_location),
    "turn_airplane_mode_on": _scene(_airplane(True)),
    "turn_airplane_mode_off": _scene(_airplane(False)),
    "unseat_sim_card": _scene(_unseat_sim),
    "lock_sim_card": _scene(_lock_sim),
    "turn_data_on": _scene(_turn_data_on),
    "turn_data_off": _scene(_twice_toggle("data_enabled", False, True, "Data connection broken.")),
    "turn_roaming_on": _scene(
        _twice_toggle("roaming_enabled", True, True, "Data Roaming is now ON.")
    ),
    "turn_roaming_off": _scene(
        _twice_toggle("roaming_enabled", False, True, "Data Roaming is now OFF.")
    ),
    "turn_data_saver_mode_on": _scene(
        _twice_toggle("data_saver_mode", True, False, "Data Saver Mode is now ON.")
    ),
    "turn_data_saver_mode_off": _scene(
        _twice_toggle("data_saver_mode", False, False, "Data Saver Mode is now OFF.")
    ),
    "break_apn_settings": _scene(_break_apn),
    "break_apn_mms_setting": _scene(_break_apn_mms),
    "set_wifi_calling": _scene(_set_wifi_calling),
    "break_vpn": _scene(_break_vpn),
    "remove_app_permission": _scene(_remove_permission),
    "simulate_network_search": _scene(lambda s: s.network_search()),
    # assertions (read-only): what τ²'s env assertions call
    "assert_airplane_mode_status": _is(lambda s: s.device.airplane_mode),
    "assert_service_status": _scene(
        lambda s, expected_status: (
            s.device.network_connection_status == NetworkStatus(expected_status)
        )
    ),
    "assert_mobile_data_status": _is(lambda s: s.mobile_data_working()),
    "assert_mobile_roaming_status": _is(lambda s: s.device.roaming_enabled),
    "assert_mobile_data_saver_mode_status": _is(lambda s: s.device.data_saver_mode),
    "assert_internet_speed": _scene(_speed_at_least),
    "assert_internet_not_excellent": _scene(lambda s: s.speed_test()[1].lower() != "excellent"),
    "assert_can_send_mms": _is(lambda s: s.can_send_mms()),
    "assert_mobile_data_usage_exceeded": _is(lambda s: s.around.mobile_data_usage_exceeded),
}
