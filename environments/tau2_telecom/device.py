"""The user's phone as τ²'s telecom simulates it: the status bar, network search, mobile
data, speed test and MMS rules, over the `Phone` and `Surroundings` records.

`PhoneState.load(db)` reads both, the methods change them as τ²'s user toolkit does, and
`save(db)` writes them back; the user's tools (`phone.py`) are thin over it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from .models import (
    APNNames,
    APNSettings,
    NetworkModePreference,
    NetworkStatus,
    NetworkTechnology,
    PerformanceLevel,
    Phone,
    SignalStrength,
    SimStatus,
    Surroundings,
    VpnDetails,
)
from .records import phone, save_user, surroundings

SIGNAL_ICON = {
    SignalStrength.NONE: "📵 No Signal",
    SignalStrength.POOR: "📶¹ Poor",
    SignalStrength.FAIR: "📶² Fair",
    SignalStrength.GOOD: "📶³ Good",
    SignalStrength.EXCELLENT: "📶⁴ Excellent",
}
SPEED_RANGE = {  # Mbps, by technology
    NetworkTechnology.TWO_G: (0.1, 0.4),
    NetworkTechnology.THREE_G: (1.0, 5.0),
    NetworkTechnology.FOUR_G: (10.0, 100.0),
    NetworkTechnology.FIVE_G: (50.0, 500.0),
    NetworkTechnology.NONE: (0.0, 0.0),
}
SIGNAL_FACTOR = {
    SignalStrength.POOR: 0.2,
    SignalStrength.FAIR: 0.5,
    SignalStrength.GOOD: 0.8,
    SignalStrength.EXCELLENT: 1.0,
    SignalStrength.NONE: 0.0,
}
ONLY = {  # a network mode preference -> the one technology it connects to
    NetworkModePreference.FOUR_G_ONLY: NetworkTechnology.FOUR_G,
    NetworkModePreference.THREE_G_ONLY: NetworkTechnology.THREE_G,
    NetworkModePreference.TWO_G_ONLY: NetworkTechnology.TWO_G,
}
DEFAULT_VPN = VpnDetails(
    server_address="192.168.1.1", protocol="OpenVPN", server_performance=PerformanceLevel.EXCELLENT
)


@dataclass
class PhoneState:
    device: Phone
    around: Surroundings

    @classmethod
    def load(cls, db: Database) -> PhoneState:
        return cls(phone(db), surroundings(db))

    def save(self, db: Database) -> None:
        save_user(db, self.device, self.around)

    # ---- what the phone shows ----------------------------------------------------------
    def status_bar(self) -> str:
        d, shown = self.device, []
        if d.airplane_mode:
            shown.append("✈️ Airplane Mode")
        else:
            shown.append(SIGNAL_ICON.get(d.network_signal_strength, "📵 No Signal"))
            if d.network_technology_connected != NetworkTechnology.NONE:
                shown.append(d.network_technology_connected.value)
            if d.data_enabled and d.network_technology_connected != NetworkTechnology.NONE:
                shown.append("📱 Data Enabled")
                if d.data_saver_mode:
                    shown.append("🔽 Data Saver")
            else:
                shown.append("📵 Data Disabled")
        if d.wifi_enabled and d.wifi_connected:
            shown.append(f"📡 Connected to {d.wifi_ssid}" if d.wifi_ssid else "📡 Enabled")
        if d.vpn_connected:
            shown.append("🔒 VPN Connected")
        shown.append(f"🔋 {d.battery_level}%")
        return " | ".join(shown)

    def with_bar(self, update: str) -> str:
        return f"{update}\nStatus Bar: {self.status_bar()}"

    def sim_status(self) -> SimStatus:
        return SimStatus.MISSING if self.device.sim_card_missing else self.device.sim_card_status

    def mobile_data_working(self) -> bool:
        d, a = self.device, self.around
        if d.airplane_mode or d.network_signal_strength == SignalStrength.NONE:
            return False
        if d.network_connection_status == NetworkStatus.NO_SERVICE:
            return False
        if a.is_abroad and (not d.roaming_enabled or not a.roaming_allowed):
            return False
        return d.data_enabled and not a.mobile_data_usage_exceeded

    def speed_test(self) -> tuple[float | None, str | None]:
        d = self.device
        if not self.mobile_data_working():
            return None, "No Connection"
        slow_vpn = (
            d.vpn_connected and d.vpn_details
            and d.vpn_details.server_performance == PerformanceLevel.POOR
        )  # fmt: skip
        factor = 0.1 if slow_vpn else 1.0
        if d.data_saver_mode:
            factor *= 0.2
        low, high = SPEED_RANGE.get(d.network_technology_connected, (0.0, 0.0))
        signal = SIGNAL_FACTOR.get(d.network_signal_strength, 0.0)
        speed = round((low + high) / 2.0 * signal * factor, 2)
        for limit, label in ((1, "Very Poor"), (5, "Poor"), (25, "Fair"), (100, "Good")):
            if speed < limit:
                return speed, label
        return speed, "Excellent"

    def can_send_mms(self) -> bool:
        d = self.device
        if not self.mobile_data_working():
            return False
        if d.network_technology_connected == NetworkTechnology.TWO_G:
            return False
        if d.wifi_calling_enabled and d.wifi_calling_mms_over_wifi:
            return False  # the carrier does not carry MMS over Wi-Fi
        if d.active_apn_settings.mmsc_url is None:
            return False
        app = d.app_statuses.get("messaging")
        return app is not None and app.permissions.storage and app.permissions.sms

    # ---- what changes it ---------------------------------------------------------------
    def network_search(self) -> None:
        """τ²'s simulate_network_search: what the phone connects to, given its SIM, its
        mode preference and the signal where the user is; nothing in airplane mode, with a
        broken APN or an inactive line."""
        d, signal = self.device, self.around.signal_strength
        if self.sim_status() == SimStatus.ACTIVE:
            d.network_connection_status = NetworkStatus.CONNECTED
            pref = d.network_mode_preference
            if pref == NetworkModePreference.FOUR_G_5G_PREFERRED:
                five = signal.get(NetworkTechnology.FIVE_G, SignalStrength.NONE)
                tech = (
                    NetworkTechnology.FOUR_G
                    if five == SignalStrength.NONE
                    else NetworkTechnology.FIVE_G
                )
            else:
                tech = ONLY.get(pref, NetworkTechnology.FOUR_G)
            d.network_technology_connected = tech
            d.network_signal_strength = signal.get(tech, SignalStrength.NONE)
        else:
            self._no_service()
        apn_broken = d.active_apn_settings.apn_name == APNNames.BROKEN
        if d.airplane_mode or apn_broken or not self.around.line_active:
            self._no_service()

    def _no_service(self) -> None:
        d = self.device
        d.network_connection_status = NetworkStatus.NO_SERVICE
        d.network_technology_connected = NetworkTechnology.NONE
        d.network_signal_strength = SignalStrength.NONE

    def _wifi_down(self) -> None:
        d = self.device
        d.wifi_connected, d.wifi_ssid, d.wifi_signal_strength = False, None, SignalStrength.NONE

    def toggle_airplane_mode(self) -> bool:
        d = self.device
        was_on = d.airplane_mode
        d.airplane_mode = not was_on
        if was_on:  # turning it off
            d.network_connection_status = NetworkStatus.SEARCHING
            if d.wifi_enabled:
                self._wifi_down()
        else:
            self._wifi_down()
            if d.vpn_connected:
                self.disconnect_vpn()
        self.network_search()
        return d.airplane_mode

    def toggle(self, field: str, search: bool = True) -> bool:
        """Flip a boolean setting of the phone (and search the network again)."""
        value = not getattr(self.device, field)
        setattr(self.device, field, value)
        if search:
            self.network_search()
        return value

    def toggle_wifi(self) -> bool | None:
        d = self.device
        if d.airplane_mode:
            return None
        d.wifi_enabled = not d.wifi_enabled
        if not d.wifi_enabled:
            self._wifi_down()
        return d.wifi_enabled

    def connect_vpn(self) -> bool | None:
        d = self.device
        if d.vpn_connected:
            return None
        d.vpn_connected, d.vpn_details = True, DEFAULT_VPN.model_copy(deep=True)
        return True

    def disconnect_vpn(self) -> bool:
        d = self.device
        if not d.vpn_connected:
            return False
        d.vpn_connected, d.vpn_details = False, None
        return True

    def reboot(self) -> str:
        d, said = self.device, []
        if d.active_apn_settings.reset_at_reboot:
            said.append("Resetting APN settings...")
            d.active_apn_settings = APNSettings()
        said.append("Restarting network services...")
        d.network_connection_status = NetworkStatus.SEARCHING
        self.network_search()
        return "\n".join(said)
