"""The gate's decision: one scan online, and a gate's offline scans uploaded later.

`ScanService.scan` is the single decision function (in the spirit of pretix's `perform_checkin`):
verify the code, find the entitlement for this venue and time, check its state, redeem atomically,
and append the scan, accepted or refused, to the scan log. A repeated nonce returns the first answer.
`ScanService.batch` replays offline scans in the order they happened: those their gate device signed
(devices.py) are decided as `scan` decides; the rest are logged `flagged` for staff.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from backend.lib.auth import AuthUser, require_venue_staff
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import Statement, fetch, is_unique_violation
from backend.lib.personal_data import mask_name
from backend.lib.problems import InvalidInput, NotFound
from backend.lib.request_log import annotate
from backend.occupancy.counts import GateMovement
from backend.occupancy.services import occupancy
from backend.passes.codes import CodeRejected, verify_code
from backend.passes.devices import gate_devices
from backend.passes.extensions import GateRequest, extensions
from backend.passes.keys import keyring
from backend.passes.schemas import (
    Direction,
    EntitledVisitor,
    OfflineScanIn,
    ScanBatchItemOut,
    ScanBatchOut,
    ScanIn,
    ScanOut,
    ScanResult,
)
from backend.passes.tables import Pass, ScanRecord
from backend.passes.visitors import visitors_of
from backend.reservations.tables import Reservation
from backend.venues.services import VenueRecord, catalog

log = logging.getLogger("changxiang.passes")

_SANE_PAST = timedelta(days=400)  # a flagged scan's claimed time is kept only when it is plausible


def utc_now() -> datetime:
    return clock.now()


async def _pass_with_holder(pass_id: str) -> dict[str, Any] | None:
    """The pass and its holder's display name, in one query."""
    found = await Pass.raw(
        "SELECT p.pass_id, p.user_id, p.revoked_at, u.display_name FROM passes p "
        "JOIN users u ON u.id = p.user_id WHERE p.pass_id = {}",
        pass_id,
    )
    return found[0] if found else None


_REDEEM_IN = (
    "UPDATE reservations SET entries = entries + 1, inside = TRUE, "
    "first_entry_at = COALESCE(first_entry_at, {}) "
    "WHERE id = {} AND status = 'confirmed' AND inside = FALSE AND (entries = 0 OR {})"
)
_REDEEM_OUT = "UPDATE reservations SET inside = FALSE WHERE id = {} AND inside = TRUE"
_LOG_COLUMNS = (
    "nonce, venue_slug, local_date, direction, reservation_id, party_size, pass_id, staff_user_id, "
    "device_id, gate, scanned_at, received_at, offline, conflict, result"
)
_LOG_VALUES = "{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, FALSE"
# The log line of a redemption, which occupancy writes in one atomic write with the redemption and the
# venue's gate count (`GateMovement`): `ok` when the redemption changed the reservation, `venue_full` when
# occupancy refused it at capacity.
_LOG_REDEEMED = (
    "INSERT INTO scan_log ("
    + _LOG_COLUMNS
    + ") VALUES ("
    + _LOG_VALUES
    + ", CASE WHEN {moved} THEN 'ok' WHEN {full} THEN 'venue_full' ELSE 'already_redeemed' END) "
    "RETURNING result, result = 'ok' AS moved"
)
_LOG = "INSERT INTO scan_log (" + _LOG_COLUMNS + ") VALUES (" + _LOG_VALUES + ", {}) RETURNING result"


_STORED = (
    "SELECT nonce, venue_slug, direction, reservation_id, pass_id, result, conflict, flag_reason "
    "FROM scan_log WHERE nonce = {}"
)

# The pass, its holder, a revoked device certificate, and the holder's reservations of the day with the
# visitors each names, in one query: a row per visitor.
_GATE_VIEW = (
    "SELECT p.pass_id, p.user_id, p.revoked_at, u.display_name, "
    "(SELECT COUNT(*) FROM device_certificates d WHERE d.serial = {} AND d.revoked_at IS NOT NULL) "
    "AS device_revoked, r.id, r.public_id, r.status, r.party_size, r.entries, r.inside, r.venue_slug, "
    "s.starts_at, s.ends_at, v.name_masked AS v_name, v.ticket_type AS v_ticket_type, v.seat_label AS v_seat, "
    "v.check_at_gate AS v_check_at_gate "
    "FROM passes p JOIN users u ON u.id = p.user_id "
    "LEFT JOIN reservations r ON r.user_id = p.user_id AND r.visit_date = {} "
    "LEFT JOIN slots s ON s.id = r.slot "
    "LEFT JOIN reservation_visitors v ON v.reservation = r.id "
    "WHERE p.pass_id = {} ORDER BY s.starts_at, r.id, v.position"
)


def _reservations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The gate view's rows (one per visitor) as one row per reservation, in order, with its `visitors`."""
    out: list[dict[str, Any]] = []
    for row in rows:
        if row["id"] is None:
            continue
        if not out or out[-1]["id"] != row["id"]:
            out.append(row | {"visitors": []})
        if row["v_name"] is not None:
            out[-1]["visitors"].append(
                EntitledVisitor(
                    name=row["v_name"],
                    ticket_type=row["v_ticket_type"],
                    seat=row["v_seat"],
                    check_at_gate=row["v_check_at_gate"],
                )
            )
    return out


def decide_entry(
    rows: list[dict[str, Any]], venue_slug: str, direction: str, at: datetime, early: timedelta
) -> tuple[ScanResult, dict[str, Any] | None]:
    """The gate's rule for one holder's reservations of the day (`rows` ordered by slot start): which
    result, and which reservation it is about. Pure: the caller redeems atomically afterwards."""
    here = [r for r in rows if r["venue_slug"] == venue_slug]
    if not here:
        return "wrong_venue", None  # the caller tells a booking on another day apart (invalid_time)
    confirmed = [r for r in here if r["status"] == "confirmed"]
    if direction == "out":
        inside = [r for r in confirmed if r["inside"]]
        return ("ok" if inside else "already_redeemed"), (inside or confirmed or here)[0]
    now_ok = [r for r in confirmed if r["starts_at"] - early <= at <= r["ends_at"]]
    if now_ok:
        fresh = [r for r in now_ok if not r["inside"]]
        return "ok", (fresh or now_ok)[0]
    if confirmed:
        return "invalid_time", confirmed[0]
    pending = [r for r in here if r["status"] == "pending_payment"]
    if pending:
        return "unpaid", pending[0]
    return "canceled", here[0]


class ScanService:
    async def _decide(
        self, venue: VenueRecord, data: ScanIn, at: datetime
    ) -> tuple[ScanResult, dict[str, Any] | None, dict[str, Any] | None]:
        """(result, reservation row, pass row) at `venue` without writing anything."""
        try:
            code = await verify_code(data.code, keyring, at)
        except CodeRejected as rejected:
            return rejected.result, None, None
        rows = await fetch(_GATE_VIEW, code.device_serial, at.astimezone(CITY_TZ).date(), code.pass_id)
        if not rows:
            return "invalid", None, None
        p = rows[0]
        if p["revoked_at"] is not None or p["device_revoked"]:
            return "revoked", None, p
        rows = _reservations(rows)
        early = timedelta(minutes=venue.row["entry_early_minutes"])
        result, r = decide_entry(rows, data.venue_slug, data.direction, at, early)
        if result == "wrong_venue" and await Reservation.exists().where(
            (Reservation.user_id == p["user_id"])
            & (Reservation.venue_slug == data.venue_slug)
            & Reservation.status.is_in(["confirmed", "pending_payment"])
        ):
            result = "invalid_time"
        return result, r, p

    async def scan(self, staff: AuthUser, data: ScanIn, *, offline: bool = False) -> ScanOut:
        require_venue_staff(staff, data.venue_slug)
        venue = await catalog.record(data.venue_slug)
        if venue is None:
            raise NotFound("venue_not_found", f"no venue {data.venue_slug!r}")
        now = utc_now()
        at = now
        if offline and data.scanned_at is not None:  # batch: its gate device signed it, dated since its sync
            at = data.scanned_at if data.scanned_at.tzinfo else data.scanned_at.replace(tzinfo=CITY_TZ)
        nonce = f"{data.venue_slug}:{data.nonce or uuid.uuid4().hex}"
        # A live scan goes straight on: its log line's nonce is unique, so a repeat fails to write (below)
        # and is answered as the first was, with nothing counted twice; one read fewer on every scan
        # (issue 22). An offline batch, which a gate re-sends whole after a failed upload, asks first.
        if offline and data.nonce and (stored := await self._stored(nonce)) is not None:
            return stored
        result, r, p = await self._decide(venue, data, at)
        if result == "wrong_venue" and p is not None and extensions.gate is not None:  # a card? (extensions.py)
            card = GateRequest(p["user_id"], data.venue_slug, data.direction, at, nonce, offline)
            result = await extensions.gate(card) or result
        claimed = getattr(data, "offline_result", None) if offline else None
        if claimed is not None and claimed != "ok":
            result = claimed  # the gate turned them away: the log says so, and nobody is let in afterwards
        log_values = (
            nonce,
            data.venue_slug,
            at.astimezone(CITY_TZ).date().isoformat(),
            data.direction,
            r["id"] if r else None,
            r["party_size"] if r else 0,
            p["pass_id"] if p else None,
            staff.id,
            data.device_id,
            data.gate,
            at,
            now,
            offline,
        )
        try:
            if result == "ok" and r is not None:
                redeem: Statement
                if data.direction == "in":
                    redeem = (_REDEEM_IN, (now, r["id"], bool(venue.row["allow_reentry"])))
                else:
                    redeem = (_REDEEM_OUT, (r["id"],))
                # occupancy writes the redemption, its gate count and its log line as one, or the log line
                # alone, `venue_full`, at 1.0 of the instantaneous capacity (entry stops)
                logged = await occupancy.move(
                    venue,
                    at,
                    data.direction,
                    r["party_size"],
                    GateMovement(redeem, _LOG_REDEEMED, log_values),
                    enforce_capacity=not offline,
                )
                result = logged[0]["result"]
            else:
                await ScanRecord.raw(_LOG, *log_values, result)
        except Exception as exc:
            if data.nonce and is_unique_violation(exc):  # a repeated nonce (a retry, or a race): as the first
                stored = await self._stored(nonce)
                if stored is not None:
                    return stored
            raise
        decided = {
            "venue": data.venue_slug,
            "result": result,
            "direction": data.direction,
            "gate": data.gate,
            "device": data.device_id,
            "offline": offline,
        }
        # a live scan's decision goes on its request's access line (one line a request); a batch's, a line each
        if offline or not annotate(scan=True, **decided):
            log.info("scan", extra=decided)
        return await self._out(nonce, result, data.venue_slug, data.direction, r, p)

    async def _out(
        self,
        nonce: str,
        result: ScanResult,
        venue: str,
        direction: Direction,
        r: dict[str, Any] | None,
        p: dict[str, Any] | None,
    ) -> ScanOut:
        holder = None
        if p is not None and result in ("ok", "already_redeemed"):
            holder = mask_name(p["display_name"])
        named: list[EntitledVisitor] = []
        if r is not None and result in ("ok", "already_redeemed"):
            if "visitors" in r:  # read with the pass (`_GATE_VIEW`); a repeated nonce's, here
                named = r["visitors"]
            else:
                named = (await visitors_of([r["public_id"]])).get(str(r["public_id"]), [])
        return ScanOut(
            result=result,
            nonce=nonce.split(":", 1)[1],
            venue_slug=venue,
            direction=direction,
            reservation_id=str(r["public_id"]) if r else None,
            party_size=r["party_size"] if r else None,
            holder_name_masked=holder,
            visitors=named,
        )

    async def _stored(self, nonce: str) -> ScanOut | None:
        # a repeated nonce's answer (a statement written once)
        found = await fetch(_STORED, nonce)
        if not found:
            return None
        row = found[0]
        r = None
        if row["reservation_id"] is not None:
            r = (
                await Reservation.select(Reservation.public_id, Reservation.party_size)
                .where(Reservation.id == row["reservation_id"])
                .first()
            )
        p = await _pass_with_holder(row["pass_id"]) if row["pass_id"] else None
        out = await self._out(nonce, row["result"], row["venue_slug"], row["direction"], r, p)
        out.conflict = bool(row["conflict"])
        out.reason = row["flag_reason"]
        return out

    async def _flag(self, staff: AuthUser, item: OfflineScanIn, reason: str, now: datetime) -> ScanOut:
        """Log an offline scan that cannot be trusted as `flagged`, for staff: no admission, no count."""
        nonce = f"{item.venue_slug}:{item.nonce}"
        if (stored := await self._stored(nonce)) is not None:
            return stored
        venue = await catalog.record(item.venue_slug)
        if venue is None:
            raise NotFound("venue_not_found", f"no venue {item.venue_slug!r}")
        at = now
        if item.scanned_at is not None:
            claimed = item.scanned_at if item.scanned_at.tzinfo else item.scanned_at.replace(tzinfo=CITY_TZ)
            if now - _SANE_PAST <= claimed <= now + timedelta(days=1):
                at = claimed
        _, r, p = await self._decide(venue, item, at)  # who it was about, for staff to look at
        try:
            await ScanRecord.insert(
                ScanRecord(
                    nonce=nonce,
                    venue_slug=item.venue_slug,
                    local_date=now.astimezone(CITY_TZ).date().isoformat(),  # the day it came to light
                    direction=item.direction,
                    result="flagged",
                    reservation_id=r["id"] if r else None,
                    party_size=r["party_size"] if r else 0,
                    pass_id=p["pass_id"] if p else None,
                    staff_user_id=staff.id,
                    device_id=item.device_id,
                    gate=item.gate,
                    scanned_at=at,
                    received_at=now,
                    offline=True,
                    flag_reason=reason,
                )
            )
        except Exception as exc:
            if is_unique_violation(exc) and (stored := await self._stored(nonce)) is not None:
                return stored
            raise
        log.warning(
            "offline scan flagged",
            extra={"venue": item.venue_slug, "reason": reason, "gate": item.gate, "device": item.device_id},
        )
        out = await self._out(nonce, "flagged", item.venue_slug, item.direction, r, p)
        out.reason = reason
        return out

    async def batch(self, staff: AuthUser, items: list[OfflineScanIn]) -> ScanBatchOut:
        """Offline scans uploaded later, in the order they happened. Only scans their gate device signed,
        dated since its last sync, are decided (devices.py); the rest are logged `flagged` for staff. A
        code that another gate already admitted, and that this gate admitted offline too, comes back
        `conflict: true`."""
        for item in items:
            require_venue_staff(staff, item.venue_slug)
            if not item.nonce:
                raise InvalidInput("nonce_required", "offline scans need their nonce", field="items.nonce")
        now = utc_now()
        devices = await gate_devices.for_batch(staff, items)
        out = []
        for item in sorted(items, key=lambda i: _when(i, now)):
            reason = gate_devices.untrusted(item, devices, now)
            if reason is not None:
                answer = await self._flag(staff, item, reason, now)
            else:
                answer = await self.scan(staff, item, offline=True)
            conflict = answer.conflict or (item.offline_result == "ok" and answer.result == "already_redeemed")
            if conflict and not answer.conflict:
                await ScanRecord.update({ScanRecord.conflict: True}).where(
                    ScanRecord.nonce == f"{item.venue_slug}:{item.nonce}"
                )
            out.append(
                ScanBatchItemOut(
                    nonce=answer.nonce,
                    result=answer.result,
                    conflict=conflict,
                    reservation_id=answer.reservation_id,
                    party_size=answer.party_size,
                    reason=answer.reason,
                )
            )
        return ScanBatchOut(items=out, flagged=sum(1 for o in out if o.result == "flagged"))


def _when(item: OfflineScanIn, now: datetime) -> datetime:
    """An offline scan's claimed time, for replaying a batch in order (undated or naive: as the city's)."""
    if item.scanned_at is None:
        return now
    return item.scanned_at if item.scanned_at.tzinfo else item.scanned_at.replace(tzinfo=CITY_TZ)


scans = ScanService()
