"""Devices that sign for us: gate phones certified for a staff account, and how many certificates a pass
or a staff account may hold at once.

A gate phone makes a non-extractable P-256 key in WebCrypto and asks `POST /scans/device` to certify it
for its staff account at its venues (like a visitor's phone at `POST /pass/device`). Every scan it then
decides offline is signed with that key (`codes.scan_entry_message`), and each `GET /scans/keys?device=`
records the device's sync. An uploaded scan is trusted only when its device signed it and it is dated
between the device's last sync (less `SYNC_SKEW`) and the upload (plus `SYNC_SKEW`), and no more than
the offline trust window after that sync; anything else is flagged for staff, never admitted
(docs/pass-code.md, "Offline gates").

Caps (docs/security.md): a pass keeps at most `device_certs_per_pass` device keys with an active
certificate and a staff account at most `gate_devices_per_staff` active gate devices; the newest wins
and the least recently certified are revoked, as ticket apps do when a holder moves to a new phone.
A renewal of the same key is no new device.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.lib.auth import AuthUser, require_venue_staff
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import is_unique_violation
from backend.lib.problems import InvalidInput
from backend.lib.signing_keys import b64u, load_point, unb64u, verify_raw
from backend.passes.codes import make_gate_certificate, scan_entry_message
from backend.passes.keys import keyring
from backend.passes.schemas import GateDeviceOut, OfflineScanIn
from backend.passes.tables import DeviceCertificate, GateDevice
from backend.settings import get_settings
from backend.venues.services import catalog

GATE_CERT_TTL = timedelta(days=7)
SYNC_SKEW = timedelta(seconds=120)  # clocks and requests in flight around a sync
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Keep the `keep` most recently certified device keys of one pass active; revoke the rest.
_CAP_PASS_DEVICES = (
    "UPDATE device_certificates SET revoked_at = {} "
    "WHERE pass_id = {} AND revoked_at IS NULL AND expires_at > {} AND device_public_key NOT IN ("
    "SELECT device_public_key FROM device_certificates "
    "WHERE pass_id = {} AND revoked_at IS NULL AND expires_at > {} "
    "GROUP BY device_public_key ORDER BY MAX(expires_at) DESC, MAX(id) DESC LIMIT {})"
)
# The same for one staff account's gate devices (one row per key: a renewal extends its row).
_CAP_GATE_DEVICES = (
    "UPDATE gate_devices SET revoked_at = {} "
    "WHERE staff_user_id = {} AND revoked_at IS NULL AND expires_at > {} AND id NOT IN ("
    "SELECT id FROM gate_devices WHERE staff_user_id = {} AND revoked_at IS NULL AND expires_at > {} "
    "ORDER BY expires_at DESC, id DESC LIMIT {})"
)


async def cap_pass_devices(pass_id: str) -> None:
    """After a certification: at most `device_certs_per_pass` device keys of the pass stay active."""
    now, keep = clock.now(), get_settings().device_certs_per_pass
    await DeviceCertificate.raw(_CAP_PASS_DEVICES, now, pass_id, now, pass_id, now, keep)


async def _cap_gate_devices(staff_user_id: int) -> None:
    now, keep = clock.now(), get_settings().gate_devices_per_staff
    await GateDevice.raw(_CAP_GATE_DEVICES, now, staff_user_id, now, staff_user_id, now, keep)


def scanned_ms(at: datetime) -> int:
    """Unix milliseconds of an offline scan's time, as the gate signed it (naive times are the city's)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=CITY_TZ)
    return (at - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class Trusted:
    """The gate devices one batch names, read once."""

    rows: dict[int, dict[str, Any]]


class GateDeviceService:
    async def certify(self, staff: AuthUser, public_key: str, venue_slugs: list[str] | None) -> GateDeviceOut:
        """Certify a gate phone's key for `staff` at `venue_slugs` (default: every venue the account is
        bound to). The same key again renews its certificate (same serial, new expiry and venues)."""
        venues = sorted(set(venue_slugs if venue_slugs is not None else staff.venue_slugs))
        if not venues:
            raise InvalidInput("venues_required", "name the venues this gate scans at", field="venue_slugs")
        for slug in venues:
            require_venue_staff(staff, slug)
            if await catalog.record(slug) is None:  # an admin may name any venue: only real ones
                raise InvalidInput("unknown_venue", f"no venue {slug!r}", field="venue_slugs")
        try:
            point = unb64u(public_key)
            load_point(point)
        except ValueError:
            raise InvalidInput("invalid_public_key", "not a base64url P-256 public key", field="public_key") from None
        key = await keyring.current()
        now = clock.now()
        expires = now + GATE_CERT_TTL
        mine = (
            await GateDevice.select(GateDevice.id, GateDevice.serial)
            .where(
                (GateDevice.staff_user_id == staff.id)
                & (GateDevice.public_key == public_key)
                & GateDevice.revoked_at.is_null()
                & (GateDevice.expires_at > now)
            )
            .first()
        )
        if mine is not None:
            serial = mine["serial"]
            await GateDevice.update({GateDevice.expires_at: expires, GateDevice.venue_slugs: ",".join(venues)}).where(
                GateDevice.id == mine["id"]
            )
        else:
            serial = await self._insert(staff.id, public_key, venues, expires)
        await _cap_gate_devices(staff.id)
        cert = make_gate_certificate(key, serial, staff.id, int(expires.timestamp()), point, venues)
        return GateDeviceOut(
            certificate=b64u(cert),
            serial=serial,
            kid=key.kid,
            venue_slugs=venues,
            expires_at=expires.astimezone(CITY_TZ),
        )

    @staticmethod
    async def _insert(staff_user_id: int, public_key: str, venues: list[str], expires: datetime) -> int:
        for _ in range(5):
            serial = secrets.randbelow(2**31 - 1) + 1
            try:
                await GateDevice.insert(
                    GateDevice(
                        serial=serial,
                        staff_user_id=staff_user_id,
                        public_key=public_key,
                        venue_slugs=",".join(venues),
                        expires_at=expires,
                    )
                )
            except Exception as exc:
                if is_unique_violation(exc):
                    continue
                raise
            return serial
        raise RuntimeError("could not allocate a gate device serial")

    async def record_sync(self, staff: AuthUser, serial: int) -> datetime | None:
        """The gate `serial` of `staff` fetched its offline material now: its last sync. None when it is no
        active device of theirs (the gate then certifies its key again)."""
        now = clock.now()
        done = await GateDevice.raw(
            "UPDATE gate_devices SET synced_at = {} WHERE serial = {} AND staff_user_id = {} "
            "AND revoked_at IS NULL AND expires_at > {} RETURNING id",
            now,
            serial,
            staff.id,
            now,
        )
        return now.astimezone(CITY_TZ) if done else None

    async def for_batch(self, staff: AuthUser, items: list[OfflineScanIn]) -> Trusted:
        serials = sorted({i.device_serial for i in items if i.device_serial is not None})
        if not serials:
            return Trusted({})
        rows = await GateDevice.select().where(
            GateDevice.serial.is_in(serials) & (GateDevice.staff_user_id == staff.id)
        )
        return Trusted({r["serial"]: r for r in rows})

    def untrusted(self, item: OfflineScanIn, devices: Trusted, now: datetime) -> str | None:
        """Why an uploaded offline scan cannot be trusted, or None when its gate device signed it within
        the window since the device's last sync."""
        if item.signature is None or item.device_serial is None or item.scanned_at is None:
            return "unsigned"
        device = devices.rows.get(item.device_serial)
        if device is None:
            return "unknown_device"  # no gate device, or one of another staff account
        if device["revoked_at"] is not None:
            return "device_revoked"
        if item.venue_slug not in device["venue_slugs"].split(","):
            return "device_venue"
        message = scan_entry_message(
            item.device_serial,
            nonce=item.nonce or "",
            venue_slug=item.venue_slug,
            direction=item.direction,
            gate=item.gate,
            device_id=item.device_id,
            code=item.code,
            offline_result=item.offline_result,
            scanned_ms=scanned_ms(item.scanned_at),
        )
        try:
            signature = unb64u(item.signature)
            verified = verify_raw(load_point(unb64u(device["public_key"])), signature, message)
        except ValueError:
            verified = False
        if not verified:
            return "bad_signature"
        at = item.scanned_at if item.scanned_at.tzinfo else item.scanned_at.replace(tzinfo=CITY_TZ)
        synced = device["synced_at"]
        if at > device["expires_at"]:
            return "certificate_expired"
        if synced is None:
            return "never_synced"
        if at < synced - SYNC_SKEW:
            return "before_last_sync"
        if at > now + SYNC_SKEW:
            return "after_upload"
        if at > synced + timedelta(seconds=get_settings().offline_trust_window_s):
            return "past_offline_window"
        return None


gate_devices = GateDeviceService()
