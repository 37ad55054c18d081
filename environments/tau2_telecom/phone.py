"""The user's side of τ²'s telecom: the 30 tools the simulated user calls on their own phone
(the agent never sees them), the functions τ²'s tasks set the phone up with, and its
assertions. τ²'s texts, word for word; the simulation is `device.PhoneState`.

τ²: a VPN connects with one shared default profile, which `break_vpn` degrades in place,
so in one τ² process every later VPN is slow; here each connection gets a fresh profile
(what a fresh τ² process shows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from apigen_mt.tools import ToolError, as_sent, tool

from .device import PhoneState
from .models import (
    APNSettings,
    NetworkModePreference,
)
from .phone_checks import (
    can_send_mms,
    check_apn_settings,
    check_app_permissions,
    check_app_status,
    check_data_restriction_status,
    check_installed_apps,
    check_network_mode_preference,
    check_network_status,
    check_payment_request,
    check_sim_status,
    check_status_bar,
    check_vpn_status,
    check_wifi_calling_status,
    check_wifi_status,
    run_speed_test,
)

AppName = as_sent(str, "The app's name, such as 'messaging'.")


def _on_phone(db: Database, change: Callable[[PhoneState], Any]) -> Any:
    state = PhoneState.load(db)
    result = change(state)
    state.save(db)
    return result


def _toggle(db: Database, field: str, label: str, search: bool = True) -> str:
    def change(s: PhoneState) -> str:
        on = s.toggle(field, search)
        return s.with_bar(f"{label} is now {'ON' if on else 'OFF'}.")

    return _on_phone(db, change)


# ---- changing the phone ----------------------------------------------------------------
@tool(writes=True)
def set_network_mode_preference(
    db: Database,
    mode: as_sent(str, "One of '4g_5g_preferred', '4g_only', '3g_only', '2g_only'."),
) -> str:
    """Changes the type of cellular network your phone prefers to connect to (e.g., 5G,
    LTE/4G, 3G). Higher-speed networks (LTE/5G) provide faster data but may use more
    battery."""

    def change(s: PhoneState) -> str:
        try:
            chosen = NetworkModePreference(mode)
        except ValueError:
            options = ", ".join(m.value for m in NetworkModePreference)
            return s.with_bar(
                f"Failed to set network mode: '{mode}' is not a valid option. Please use one "
                f"of: {options}"
            )
        s.device.network_mode_preference = chosen
        s.network_search()
        return s.with_bar(f"Preferred Network Mode set to: {chosen.value}")

    return _on_phone(db, change)


@tool(writes=True)
def toggle_airplane_mode(db: Database) -> str:
    """Toggles Airplane Mode ON or OFF. When ON, it disconnects all wireless communications
    including cellular, Wi-Fi, and Bluetooth. Returns the new state of airplane_mode."""

    def change(s: PhoneState) -> str:
        on = s.toggle_airplane_mode()
        return s.with_bar(f"Airplane Mode is now {'ON' if on else 'OFF'}.")

    return _on_phone(db, change)


@tool(writes=True)
def reseat_sim_card(db: Database) -> str:
    """Simulates removing and reinserting your SIM card. This can help resolve recognition
    issues."""

    def change(s: PhoneState) -> str:
        s.device.sim_card_missing = False
        s.network_search()
        return s.with_bar("SIM card re-seated successfully.")

    return _on_phone(db, change)


@tool(writes=True)
def toggle_data(db: Database) -> str:
    """Toggles your phone's mobile data connection ON or OFF. Controls whether your phone can
    use cellular data for internet access when Wi-Fi is unavailable. Returns the new data
    connection status."""
    return _toggle(db, "data_enabled", "Mobile Data")


@tool(writes=True)
def toggle_roaming(db: Database) -> str:
    """Toggles Data Roaming ON or OFF. When ON, your phone can use data networks in areas
    outside your carrier's coverage. Returns the new data roaming status."""
    return _toggle(db, "roaming_enabled", "Data Roaming")


@tool(writes=True)
def toggle_data_saver_mode(db: Database) -> str:
    """Toggles Data Saver mode ON or OFF. When ON, it reduces data usage, which may affect
    data speed. Returns the new data saver mode status."""
    return _toggle(db, "data_saver_mode", "Data Saver Mode", search=False)


@tool(writes=True)
def set_apn_settings(
    db: Database, apn_settings: as_sent(dict, "The APN settings (apn_name, mmsc_url, ...).")
) -> str:
    """Sets the APN settings for the phone."""

    def change(s: PhoneState) -> str:
        try:
            settings = (
                APNSettings(**apn_settings) if isinstance(apn_settings, dict) else apn_settings
            )
            s.device.active_apn_settings = APNSettings.model_validate(settings)
        except (TypeError, ValueError) as exc:
            raise ToolError(str(exc)) from None
        update = f"APN settings set to: {settings.apn_name.value}"
        s.network_search()
        return s.with_bar(update)

    return _on_phone(db, change)


@tool(writes=True)
def reset_apn_settings(db: Database) -> str:
    """Resets your APN settings to the default settings."""

    def change(s: PhoneState) -> str:
        s.device.active_apn_settings.reset_at_reboot = True
        s.network_search()
        return s.with_bar("APN settings will reset at reboot.")

    return _on_phone(db, change)


@tool(writes=True)
def toggle_wifi(db: Database) -> str:
    """Toggles your phone's Wi-Fi radio ON or OFF. Controls whether your phone can discover
    and connect to wireless networks for internet access. Returns the new Wi-Fi status."""

    def change(s: PhoneState) -> str:
        on = s.toggle_wifi()
        if on is None:
            return s.with_bar("Cannot change Wi-Fi settings while Airplane Mode is ON.")
        return s.with_bar(f"Wi-Fi is now {'ON' if on else 'OFF'}.")

    return _on_phone(db, change)


@tool(writes=True)
def toggle_wifi_calling(db: Database) -> str:
    """Toggles Wi-Fi Calling ON or OFF. This feature allows you to make and receive calls
    over Wi-Fi instead of the cellular network, which can help in areas with weak cellular
    signal. Returns the new Wi-Fi Calling status."""
    return _toggle(db, "wifi_calling_enabled", "Wi-Fi Calling", search=False)


@tool(writes=True)
def connect_vpn(db: Database) -> str:
    """Connects to your VPN (Virtual Private Network)."""

    def change(s: PhoneState) -> str:
        connected = s.connect_vpn()
        if connected is None:
            return "VPN already connected."
        return s.with_bar("VPN connected successfully.")

    return _on_phone(db, change)


@tool(writes=True)
def disconnect_vpn(db: Database) -> str:
    """Disconnects any active VPN (Virtual Private Network) connection. Stops routing your
    internet traffic through a VPN server, which might affect connection speed or access to
    content."""

    def change(s: PhoneState) -> str:
        done = s.disconnect_vpn()
        update = (
            "VPN disconnected successfully." if done else "No active VPN connection to disconnect."
        )
        return s.with_bar(update)

    return _on_phone(db, change)


@tool(writes=True)
def grant_app_permission(
    db: Database,
    app_name: AppName,
    permission: as_sent(str, "The permission to grant, lowercase: sms, storage, phone, network."),
) -> str:
    """Gives a specific permission to an app (like access to storage, camera, or location).
    Required for some app functions to work properly."""

    def change(s: PhoneState) -> str:
        ok, message = set_permission(s, app_name, permission, True)
        return s.with_bar(f"{'Success. ' if ok else 'Error. '}{message}")

    return _on_phone(db, change)


def set_permission(s: PhoneState, app_name: str, permission: str, on: bool) -> tuple[bool, str]:
    app = s.device.app_statuses.get(app_name)
    try:
        permission = permission.lower()
    except AttributeError as exc:  # τ²: plain Python on what arrived
        raise ToolError(str(exc)) from None
    if app is None:
        verb = "grant" if on else "remove"
        return False, f"App '{app_name}' not found. Cannot {verb} permission."
    known = list(app.permissions.model_dump())
    if permission not in known:
        if on:
            return False, (f"Permission '{permission}' not tracked for app '{app_name}', "
                           f"available permissions: {known}")  # fmt: skip
        return False, f"Permission '{permission}' not tracked for app '{app_name}'."
    setattr(app.permissions, permission, on)
    if on:
        return True, f"Permission '{permission}' granted to app '{app_name}'."
    return True, f"Permission '{permission}' removed from app '{app_name}'."


@tool(writes=True)
def reboot_device(db: Database) -> str:
    """Restarts your phone completely. This can help resolve many temporary software glitches
    by refreshing all running services and connections."""
    return _on_phone(db, lambda s: s.with_bar(s.reboot()))


@tool(writes=True)
def make_payment(db: Database) -> str:
    """Makes a payment for the bill that the agent has sent you."""

    def change(s: PhoneState) -> str:
        request = s.around.payment_request
        if request is None:
            return "You do not have a payment request."
        request.paid = True
        return f"Payment of {request.amount_due} USD has been made for bill {request.bill_id}."

    return _on_phone(db, change)


USER_TOOLS = [
    check_status_bar, check_network_status, check_network_mode_preference,
    set_network_mode_preference, run_speed_test, toggle_airplane_mode, check_sim_status,
    reseat_sim_card, toggle_data, toggle_roaming, check_data_restriction_status,
    toggle_data_saver_mode, check_apn_settings, set_apn_settings, reset_apn_settings,
    check_wifi_status, toggle_wifi, check_wifi_calling_status, toggle_wifi_calling,
    check_vpn_status, connect_vpn, disconnect_vpn, check_installed_apps, check_app_status,
    check_app_permissions, grant_app_permission, can_send_mms, reboot_device,
    check_payment_request, make_payment,
]  # fmt: skip
