"""The user's read-only tools on their own phone: what it shows (τ²'s texts, word for
word). The ones that change it are in `phone.py`."""

from __future__ import annotations

from sqlite_utils import Database

from apigen_mt.tools import as_sent, tool

from .device import PhoneState

AppName = as_sent(str, "The app's name, such as 'messaging'.")


# ---- reading the phone -----------------------------------------------------------------
@tool()
def check_status_bar(db: Database) -> str:
    """Shows what icons are currently visible in your phone's status bar (the area at the top
    of the screen). Displays network signal strength, mobile data status (enabled, disabled,
    data saver), Wi-Fi status, and battery level."""
    return f"Status Bar: {PhoneState.load(db).status_bar()}"


@tool()
def check_network_status(db: Database) -> str:
    """Checks your phone's connection status to cellular networks and Wi-Fi. Shows airplane
    mode status, signal strength, network type, whether mobile data is enabled, and whether
    data roaming is enabled."""
    s = PhoneState.load(db)
    d = s.device
    yes = {True: "Yes", False: "No"}
    lines = [
        f"Airplane Mode: {'ON' if d.airplane_mode else 'OFF'}",
        f"SIM Card Status: {s.sim_status().value}",
        f"Cellular Connection: {d.network_connection_status.value}",
        f"Cellular Signal: {d.network_signal_strength.value}",
        f"Cellular Network Type: {d.network_technology_connected.value}",
        f"Mobile Data Enabled: {yes[d.data_enabled]}",
        f"Data Roaming Enabled: {yes[d.roaming_enabled]}",
        f"Wi-Fi Radio: {'ON' if d.wifi_enabled else 'OFF'}",
        f"Wi-Fi Connected: {yes[d.wifi_connected]}",
    ]
    if d.wifi_connected:
        lines.append(f"Connected Wi-Fi Network: {d.wifi_ssid}")
    return "\n".join(lines)


@tool()
def check_network_mode_preference(db: Database) -> str:
    """Shows the current network mode preference."""
    return f"Network Mode Preference: {PhoneState.load(db).device.network_mode_preference.value}"


@tool()
def run_speed_test(db: Database) -> str:
    """Measures your current internet connection speed (download speed). Provides information
    about connection quality and what activities it can support."""
    speed, label = PhoneState.load(db).speed_test()
    if speed is None:
        return f"Speed test failed: {label or 'Could not determine speed'}."
    advice = {
        "Very Poor": "Connection is very slow. Basic web browsing might be difficult.",
        "Poor": "Connection is slow. Web browsing may be sluggish, streaming difficult.",
        "Fair": "Connection is okay for web browsing and some standard definition streaming.",
        "Good": "Connection is good for most activities, including HD streaming.",
        "Excellent": "Connection is very fast.",
    }.get(label, "")
    return f"Speed Test Result: {speed:.2f} Mbps ({label}). {advice}"


@tool()
def check_sim_status(db: Database) -> str:
    """Checks if your SIM card is working correctly and displays its current status. Shows
    if the SIM is active, missing, or locked with a PIN or PUK code."""
    status = PhoneState.load(db).sim_status()
    return {
        "active": "Your SIM card is active and working.",
        "missing": "No SIM card detected in the phone.",
        "locked_pin": "The SIM card is locked with a PIN code.",
        "locked_puk": "The SIM card is locked with a PUK code.",
    }.get(status.value, f"Unknown SIM status: {status.value}")


@tool()
def check_data_restriction_status(db: Database) -> str:
    """Checks if your phone has any data-limiting features active. Shows if Data Saver mode
    is on."""
    if PhoneState.load(db).device.data_saver_mode:
        return "Data Saver mode is ON (limits data usage)."
    return "Data Saver mode is OFF."


@tool()
def check_apn_settings(db: Database) -> str:
    """Checks the technical APN settings your phone uses to connect to your carrier's mobile
    data network. Shows current APN name and MMSC URL for picture messaging."""
    apn = PhoneState.load(db).device.active_apn_settings
    return (
        f"Current APN Name: {apn.apn_name.value or 'Not Set'}\n"
        f"MMSC URL (for picture messages): {apn.mmsc_url or 'Not Set'}\n"
        "(These are technical settings, usually best left unchanged.)"
    )


@tool()
def check_wifi_status(db: Database) -> str:
    """Checks your Wi-Fi connection status. Shows if Wi-Fi is turned on, which network
    you're connected to (if any), and the signal strength."""
    d = PhoneState.load(db).device
    if not d.wifi_enabled:
        return "Wi-Fi is turned OFF."
    if d.wifi_connected:
        return (
            f"Wi-Fi is ON and connected to '{d.wifi_ssid}'. "
            f"Signal strength: {d.wifi_signal_strength.value}."
        )
    return "Wi-Fi is ON but not connected to any network."


@tool()
def check_wifi_calling_status(db: Database) -> str:
    """Checks if Wi-Fi Calling is enabled on your device. This feature allows you to make and
    receive calls over a Wi-Fi network instead of using the cellular network."""
    on = PhoneState.load(db).device.wifi_calling_enabled
    return f"Wi-Fi Calling is currently turned {'ON' if on else 'OFF'}."


@tool()
def check_vpn_status(db: Database) -> str:
    """Checks if you're using a VPN (Virtual Private Network) connection. Shows if a VPN is
    active, connected, and displays any available connection details."""
    d = PhoneState.load(db).device
    if d.vpn_connected:
        details = d.vpn_details.model_dump() if d.vpn_details else None
        if details:
            return f"VPN is ON and connected. Details: {details}"
        return "VPN is ON and connected (no specific details available)."
    if d.vpn_enabled_setting:
        return "VPN is turned ON in settings, but currently not connected."
    return "VPN is turned OFF."


@tool()
def check_installed_apps(db: Database) -> str:
    """Returns the name of all installed apps on the phone."""
    names = ", ".join(PhoneState.load(db).device.app_statuses)
    return f"The following apps are installed on the phone: {names}"


def _granted(permissions) -> list[str]:
    return [n.replace("_", " ").lower() for n, on in permissions.model_dump().items() if on]


@tool()
def check_app_status(db: Database, app_name: AppName) -> str:
    """Checks detailed information about a specific app. Shows its permissions and
    background data usage settings."""
    app = PhoneState.load(db).device.app_statuses.get(app_name)
    if app is None:
        return f"App '{app_name}' not found on this phone."
    lines = [f"Status for App: {app_name}"]
    granted = _granted(app.permissions)
    if not granted:
        lines.append(" - Permissions: None granted.")
    else:
        lines.append(" - Permissions Granted:")
        lines += [f"   - {p}" for p in granted]
    return "\n".join(lines)


@tool()
def check_app_permissions(db: Database, app_name: AppName) -> str:
    """Checks what permissions a specific app currently has. Shows if the app has access to
    features like storage, camera, location, etc."""
    app = PhoneState.load(db).device.app_statuses.get(app_name)
    if app is None:
        return f"App '{app_name}' not found on this phone."
    granted = _granted(app.permissions)
    if not granted:
        return f"App '{app_name}' currently has no permissions granted."
    return f"App '{app_name}' has permission for: {', '.join(granted)}."


@tool()
def can_send_mms(db: Database) -> str:
    """Checks if the default messaging app can send MMS messages."""
    if PhoneState.load(db).can_send_mms():
        return "Your messaging app can send MMS messages."
    return "Your messaging app cannot send MMS messages."


@tool()
def check_payment_request(db: Database) -> str:
    """Checks if the agent has sent you a payment request."""
    request = PhoneState.load(db).around.payment_request
    if request is None:
        return "No payment request has been made."
    return f"You have a payment request for bill {request.bill_id} of {request.amount_due} USD."
