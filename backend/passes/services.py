"""One code for every venue (一码通行): a visitor's pass, its entitlements and codes.

The gate's decision on a code is scanning.py (`ScanService`); what a gate is told to decide offline,
and a venue's counts, gate_keys.py (`GateService`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import segno

from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import is_unique_violation
from backend.lib.personal_data import mask_name
from backend.lib.problems import InvalidInput
from backend.lib.signing_keys import b64u, unb64u
from backend.passes.codes import WINDOW_S, make_certificate, make_server_code
from backend.passes.devices import cap_pass_devices
from backend.passes.extensions import extensions
from backend.passes.keys import keyring
from backend.passes.schemas import DeviceCertificateOut, Entitlement, PassCodeOut, PassOut
from backend.passes.tables import DeviceCertificate, Pass
from backend.passes.visitors import visitors_of
from backend.reservations.tables import Reservation
from backend.venues.services import catalog

DEVICE_CERT_TTL = timedelta(hours=48)


def utc_now() -> datetime:
    return clock.now()


async def pass_for(user_id: int) -> dict[str, Any]:
    row = await Pass.select().where(Pass.user_id == user_id).first()
    if row is None:
        await Pass.insert(Pass(user_id=user_id, pass_id=secrets.token_hex(8))).on_conflict(
            target=Pass.user_id, action="DO NOTHING"
        )
        row = await Pass.select().where(Pass.user_id == user_id).first()
    if row is None:  # written just above (or by a twin request): passes are never deleted
        raise LookupError(f"no pass for user {user_id}")
    return row


async def early_minutes(slugs: set[str]) -> dict[str, int]:
    """How early before its slot each venue's gate admits, from the venue catalogue (no query)."""
    out = {}
    for slug in slugs:
        record = await catalog.record(slug)
        out[slug] = record.row["entry_early_minutes"] if record else 30
    return out


def _entitlement_status(r: dict[str, Any]) -> str:
    if r["status"] == "confirmed" and r["entries"] > 0 and not r["inside"]:
        return "used"
    status: str = r["status"]
    return status


class PassService:
    async def view(self, user: AuthUser) -> PassOut:
        p = await pass_for(user.id)
        rows = (
            await Reservation.select(
                Reservation.public_id,
                Reservation.venue_slug,
                Reservation.party_size,
                Reservation.status,
                Reservation.entries,
                Reservation.inside,
                Reservation.slot.starts_at,
                Reservation.slot.ends_at,
            )
            .where(
                (Reservation.user_id == user.id)
                & (Reservation.visit_date >= clock.city_today())
                & Reservation.status.is_in(["confirmed", "pending_payment"])
            )
            .order_by(Reservation.slot.starts_at)
        )
        early = await early_minutes({r["venue_slug"] for r in rows})
        named = await visitors_of(r["public_id"] for r in rows)
        return PassOut(
            pass_id=p["pass_id"],
            holder_name_masked=mask_name(user.display_name),
            entitlements=[
                Entitlement(
                    reservation_id=str(r["public_id"]),
                    venue_slug=r["venue_slug"],
                    valid_from=(r["slot.starts_at"] - timedelta(minutes=early[r["venue_slug"]])).astimezone(CITY_TZ),
                    valid_until=r["slot.ends_at"].astimezone(CITY_TZ),
                    party_size=r["party_size"],
                    status=_entitlement_status(r),
                    entries=r["entries"],
                    starts_at=r["slot.starts_at"].astimezone(CITY_TZ),
                    entry_early_minutes=early[r["venue_slug"]],
                    visitors=named.get(str(r["public_id"]), []),
                )
                for r in rows
            ]
            + await extensions.extra_entitlements(user.id),  # coupons and cards (backend/passes/extensions.py)
        )

    async def server_code(self, user: AuthUser) -> PassCodeOut:
        p = await pass_for(user.id)
        now = int(utc_now().timestamp())
        code = make_server_code(await keyring.current(), p["pass_id"], now)
        return PassCodeOut(
            code=code, expires_at=datetime.fromtimestamp(now + WINDOW_S, CITY_TZ), refresh_after_s=WINDOW_S // 2
        )

    async def code_svg(self, user: AuthUser) -> bytes:
        code = (await self.server_code(user)).code
        qr = segno.make(code, error="m", micro=False)
        return qr.svg_inline(
            scale=6, border=4, dark="#0b2a2a", light="#ffffff", title="常享通行码 Changxiang pass"
        ).encode()

    async def certify_device(self, user: AuthUser, public_key: str) -> DeviceCertificateOut:
        p = await pass_for(user.id)
        try:
            point = unb64u(public_key)
        except ValueError:
            raise InvalidInput("invalid_public_key", "public_key must be base64url", field="public_key") from None
        key = await keyring.current()
        expires = utc_now() + DEVICE_CERT_TTL
        for _ in range(5):
            serial = secrets.randbelow(2**31 - 1) + 1
            try:
                cert = make_certificate(key, p["pass_id"], serial, int(expires.timestamp()), point)
            except ValueError:
                raise InvalidInput("invalid_public_key", "not a P-256 public key", field="public_key") from None
            try:
                await DeviceCertificate.insert(
                    DeviceCertificate(
                        serial=serial, pass_id=p["pass_id"], device_public_key=public_key, expires_at=expires
                    )
                )
            except Exception as exc:
                if is_unique_violation(exc):
                    continue
                raise
            await cap_pass_devices(p["pass_id"])  # a new phone: the least recently certified beyond the cap go
            return DeviceCertificateOut(
                certificate=b64u(cert),
                serial=serial,
                kid=key.kid,
                expires_at=expires.astimezone(CITY_TZ),
                window_s=WINDOW_S,
            )
        raise RuntimeError("could not allocate a certificate serial")


passes = PassService()
