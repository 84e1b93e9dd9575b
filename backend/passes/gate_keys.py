"""What a gate is told: the keys, revocations and day's entitlements it decides offline with (a sync,
when it names its device), and the venue's counts of the day."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.tables import User
from backend.lib.auth import AuthUser, require_venue_staff
from backend.lib.clock import CITY_TZ, clock
from backend.lib.personal_data import mask_name
from backend.occupancy.services import occupancy
from backend.passes.codes import SKEW_S, WINDOW_S
from backend.passes.devices import gate_devices
from backend.passes.keys import keyring
from backend.passes.schemas import GateEntitlement, PublicKeyOut, RevokedOut, ScannerKeysOut, VenueCountOut
from backend.passes.services import early_minutes, pass_for, utc_now
from backend.passes.tables import DeviceCertificate, Pass, ScanRecord
from backend.reservations.tables import Reservation
from backend.venues.services import catalog


class GateService:
    async def scanner_keys(self, staff: AuthUser, device_serial: int | None = None) -> ScannerKeysOut:
        """Everything a gate needs to decide offline: public keys, revocations, the day's entitlements.
        A gate that names its device (`device_serial`) syncs: its offline scans are trusted from now on."""
        synced = await gate_devices.record_sync(staff, device_serial) if device_serial is not None else None
        venues = sorted(staff.venue_slugs) if "admin" not in staff.roles else []
        today = clock.city_today()
        revoked = [
            RevokedOut(pass_id=r["pass_id"])
            for r in await Pass.select(Pass.pass_id).where(Pass.revoked_at.is_not_null())
        ]
        revoked += [
            RevokedOut(device_serial=r["serial"])
            for r in await DeviceCertificate.select(DeviceCertificate.serial).where(
                DeviceCertificate.revoked_at.is_not_null() & (DeviceCertificate.expires_at > utc_now())
            )
        ]
        entitlements: list[GateEntitlement] = []
        if venues:
            rows = await Reservation.select(
                Reservation.public_id,
                Reservation.user_id,
                Reservation.venue_slug,
                Reservation.party_size,
                Reservation.status,
                Reservation.entries,
                Reservation.inside,
                Reservation.slot.starts_at,
                Reservation.slot.ends_at,
            ).where(
                Reservation.venue_slug.is_in(venues)
                & (Reservation.visit_date == today)
                & Reservation.status.is_in(["confirmed", "pending_payment", "cancelled"])
            )
            users = {r["user_id"] for r in rows}
            passes = (
                {
                    r["user_id"]: r["pass_id"]
                    for r in await Pass.select(Pass.user_id, Pass.pass_id).where(Pass.user_id.is_in(sorted(users)))
                }
                if users
                else {}
            )
            for user_id in users - passes.keys():  # holders who never opened their pass yet
                passes[user_id] = (await pass_for(user_id))["pass_id"]
            names = (
                {
                    r["id"]: r["display_name"]
                    for r in await User.select(User.id, User.display_name).where(User.id.is_in(sorted(users)))
                }
                if users
                else {}
            )
            early = await early_minutes(set(venues))
            reentry = {slug: bool(rec.row["allow_reentry"]) for slug in venues if (rec := await catalog.record(slug))}
            entitlements = [
                GateEntitlement(
                    pass_id=passes[r["user_id"]],
                    reservation_id=str(r["public_id"]),
                    venue_slug=r["venue_slug"],
                    valid_from=(r["slot.starts_at"] - timedelta(minutes=early.get(r["venue_slug"], 30))).astimezone(
                        CITY_TZ
                    ),
                    valid_until=r["slot.ends_at"].astimezone(CITY_TZ),
                    party_size=r["party_size"],
                    status=r["status"],
                    entries=r["entries"],
                    inside=r["inside"],
                    holder_name_masked=mask_name(names.get(r["user_id"], "")),
                    allow_reentry=reentry.get(r["venue_slug"], False),
                )
                for r in rows
                if r["user_id"] in passes
            ]
        return ScannerKeysOut(
            keys=[PublicKeyOut(**k) for k in await keyring.public_keys()],
            revoked=revoked,
            generated_at=utc_now(),
            window_s=WINDOW_S,
            skew_s=SKEW_S,
            venue_slugs=venues,
            entitlements=entitlements,
            device_synced_at=synced,
        )

    async def counts(self, staff: AuthUser, venue_slug: str) -> VenueCountOut:
        require_venue_staff(staff, venue_slug)
        day = clock.city_today().isoformat()
        rows = await ScanRecord.select(ScanRecord.direction, ScanRecord.party_size, ScanRecord.result).where(
            (ScanRecord.venue_slug == venue_slug)
            & (ScanRecord.local_date == day)
            & ScanRecord.result.is_in(["ok", "flagged"])
        )
        flagged = sum(1 for r in rows if r["result"] == "flagged")
        rows = [r for r in rows if r["result"] == "ok"]
        entries = sum(r["party_size"] for r in rows if r["direction"] == "in")
        exits = sum(r["party_size"] for r in rows if r["direction"] == "out")
        walked_in, walked_out = await occupancy.walk_ins(venue_slug, day)  # counted at the manual window
        entries += walked_in
        exits += walked_out
        return VenueCountOut(
            venue_slug=venue_slug,
            date=day,
            entries_today=entries,
            exits_today=exits,
            occupancy=max(0, entries - exits),
            flagged_today=flagged,
        )


gates = GateService()
