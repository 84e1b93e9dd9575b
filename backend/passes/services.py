"""One code for every venue (一码通行) and the gate's decision.

`ScanService.scan` is the single decision function (in the spirit of pretix's `perform_checkin`):
verify the code, find the entitlement for this venue and time, check its state, redeem atomically,
and append the scan, accepted or refused, to the scan log. A repeated nonce returns the first answer.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import segno
from piccolo.querystring import QueryString

from backend.accounts.tables import User
from backend.lib.auth import AuthUser, require_venue_staff
from backend.lib.db import is_sqlite, is_unique_violation, run_atomically
from backend.lib.personal_data import mask_name
from backend.lib.problems import InvalidInput, NotFound
from backend.lib.signing_keys import b64u, keyring, unb64u
from backend.passes.codes import SKEW_S, WINDOW_S, CodeRejected, make_certificate, make_server_code, verify_code
from backend.passes.schemas import (
    DeviceCertificateOut,
    Entitlement,
    GateEntitlement,
    OfflineScanIn,
    PassCodeOut,
    PassOut,
    RevokedOut,
    ScanBatchItemOut,
    ScanBatchOut,
    ScanIn,
    ScannerKeysOut,
    ScanOut,
    VenueCountOut,
)
from backend.passes.tables import DeviceCertificate, GateCount, Pass, ScanRecord
from backend.reservations.tables import Reservation
from backend.venues.services import CITY_TZ, VenueRecord, catalog, window_start

log = logging.getLogger("changxiang.passes")

DEVICE_CERT_TTL = timedelta(hours=48)
OFFLINE_MAX_AGE = timedelta(hours=72)


def utc_now() -> datetime:
    return datetime.now(UTC)


async def _pass_for(user_id: int) -> dict:
    row = await Pass.select().where(Pass.user_id == user_id).first()
    if row is None:
        await Pass.insert(Pass(user_id=user_id, pass_id=secrets.token_hex(8))).on_conflict(
            target=Pass.user_id, action="DO NOTHING"
        )
        row = await Pass.select().where(Pass.user_id == user_id).first()
    return row  # type: ignore[return-value]


async def _pass_with_holder(pass_id: str) -> dict | None:
    """The pass and its holder's display name, in one query."""
    found = await Pass.raw(
        "SELECT p.pass_id, p.user_id, p.revoked_at, u.display_name FROM passes p "
        "JOIN users u ON u.id = p.user_id WHERE p.pass_id = {}",
        pass_id,
    )
    return found[0] if found else None


async def _early_minutes(slugs: set[str]) -> dict[str, int]:
    """How early before its slot each venue's gate admits, from the venue catalogue (no query)."""
    out = {}
    for slug in slugs:
        record = await catalog.record(slug)
        out[slug] = record.row["entry_early_minutes"] if record else 30
    return out


def _entitlement_status(r: dict) -> str:
    if r["status"] == "confirmed" and r["entries"] > 0 and not r["inside"]:
        return "used"
    return r["status"]


class PassService:
    async def view(self, user: AuthUser) -> PassOut:
        p = await _pass_for(user.id)
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
                & (Reservation.visit_date >= datetime.now(CITY_TZ).date())
                & Reservation.status.is_in(["confirmed", "pending_payment"])
            )
            .order_by(Reservation.slot.starts_at)
        )
        early = await _early_minutes({r["venue_slug"] for r in rows})
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
                )
                for r in rows
            ],
        )

    async def server_code(self, user: AuthUser) -> PassCodeOut:
        p = await _pass_for(user.id)
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
        p = await _pass_for(user.id)
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
            return DeviceCertificateOut(
                certificate=b64u(cert),
                serial=serial,
                kid=key.kid,
                expires_at=expires.astimezone(CITY_TZ),
                window_s=WINDOW_S,
            )
        raise RuntimeError("could not allocate a certificate serial")


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
# People moved through the gates, counted per venue and window in the same write (see GateCount).
_COUNT = (
    "INSERT INTO gate_counts (count_key, venue_slug, local_date, window_start, entries, exits) "
    "SELECT {}, {}, {}, {}, {}, {} WHERE {when} ON CONFLICT (count_key) DO UPDATE SET "
    "entries = gate_counts.entries + excluded.entries, exits = gate_counts.exits + excluded.exits"
)
_COUNT_IF_LOGGED_OK = _COUNT.replace("{when}", "(SELECT result FROM scan_log WHERE nonce = {}) = 'ok'")
# The redemption and its log line are one atomic write. PostgreSQL: one statement (a data-modifying
# CTE); SQLite: statements in one BEGIN IMMEDIATE hop, the log reading the UPDATE's changes(). The
# gate count moves in the same write when the scan admitted or let out (GateCount).
_PG_REDEEM_COUNT_AND_LOG = (
    "WITH redeemed AS ({redeem} RETURNING id), counted AS ("
    + _COUNT.replace("{when}", "EXISTS (SELECT 1 FROM redeemed)")
    + " RETURNING 1) INSERT INTO scan_log ("
    + _LOG_COLUMNS
    + ") SELECT "
    + _LOG_VALUES
    + ", CASE WHEN EXISTS (SELECT 1 FROM redeemed) THEN 'ok' ELSE 'already_redeemed' END RETURNING result"
)
_SQLITE_LOG_REDEEMED = (
    "INSERT INTO scan_log ("
    + _LOG_COLUMNS
    + ") VALUES ("
    + _LOG_VALUES
    + ", CASE WHEN changes() > 0 THEN 'ok' ELSE 'already_redeemed' END) RETURNING result"
)
_LOG = "INSERT INTO scan_log (" + _LOG_COLUMNS + ") VALUES (" + _LOG_VALUES + ", {}) RETURNING result"


def gate_count_values(record: VenueRecord, at: datetime, direction: str, people: int) -> tuple:
    """count_key, venue, local date, window start, entries, exits for people moving at `at`."""
    local = at.astimezone(CITY_TZ)
    start = window_start(record, local)
    slug = record.row["slug"]
    entries, exits = (people, 0) if direction == "in" else (0, people)
    return f"{slug}|{start.isoformat()}", slug, local.date().isoformat(), start, entries, exits


async def add_to_gate_count(record: VenueRecord, at: datetime, direction: str, people: int) -> None:
    """Count people who moved without a scan (the manual window), inside the caller's transaction."""
    await GateCount.raw(_COUNT.replace("{when}", "TRUE"), *gate_count_values(record, at, direction, people))


# The pass, its holder, a revoked device certificate and the holder's reservations of the day, in one query.
_GATE_VIEW = (
    "SELECT p.pass_id, p.user_id, p.revoked_at, u.display_name, "
    "(SELECT COUNT(*) FROM device_certificates d WHERE d.serial = {} AND d.revoked_at IS NOT NULL) "
    "AS device_revoked, r.id, r.public_id, r.status, r.party_size, r.entries, r.inside, r.venue_slug, "
    "s.starts_at, s.ends_at "
    "FROM passes p JOIN users u ON u.id = p.user_id "
    "LEFT JOIN reservations r ON r.user_id = p.user_id AND r.visit_date = {} "
    "LEFT JOIN slots s ON s.id = r.slot "
    "WHERE p.pass_id = {} ORDER BY s.starts_at"
)


def decide_entry(
    rows: list[dict], venue_slug: str, direction: str, at: datetime, early: timedelta
) -> tuple[str, dict | None]:
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
    async def _decide(self, venue: VenueRecord, data: ScanIn, at: datetime) -> tuple[str, dict | None, dict | None]:
        """(result, reservation row, pass row) at `venue` without writing anything."""
        try:
            code = await verify_code(data.code, keyring, at)
        except CodeRejected as rejected:
            return rejected.result, None, None
        rows = await Pass.raw(_GATE_VIEW, code.device_serial, at.astimezone(CITY_TZ).date(), code.pass_id)
        if not rows:
            return "invalid", None, None
        p = rows[0]
        if p["revoked_at"] is not None or p["device_revoked"]:
            return "revoked", None, p
        rows = [r for r in rows if r["id"] is not None]
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
        if offline and data.scanned_at is not None:
            at = data.scanned_at if data.scanned_at.tzinfo else data.scanned_at.replace(tzinfo=CITY_TZ)
            if at > now + timedelta(seconds=SKEW_S) or at < now - OFFLINE_MAX_AGE:
                raise InvalidInput("invalid_scanned_at", "scanned_at is in the future or too old", field="scanned_at")
        nonce = f"{data.venue_slug}:{data.nonce or uuid.uuid4().hex}"
        if data.nonce and (stored := await self._stored(nonce)) is not None:
            return stored
        result, r, p = await self._decide(venue, data, at)
        if result == "ok" and data.direction == "in" and not offline and r is not None:
            from backend.governance.services import occupancy  # governance reads the scan log

            if await occupancy.entry_refused(data.venue_slug):
                result = "venue_full"  # at 1.0 of the instantaneous capacity entry stops
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
                if data.direction == "in":
                    redeem = QueryString(_REDEEM_IN, now, r["id"], bool(venue.row["allow_reentry"]))
                else:
                    redeem = QueryString(_REDEEM_OUT, r["id"])
                counted = gate_count_values(venue, at, data.direction, r["party_size"])
                if is_sqlite():
                    _, logged, _ = await run_atomically(
                        redeem,
                        QueryString(_SQLITE_LOG_REDEEMED, *log_values),
                        QueryString(_COUNT_IF_LOGGED_OK, *counted, nonce),
                    )
                else:
                    logged = await ScanRecord.raw(
                        _PG_REDEEM_COUNT_AND_LOG.replace("{redeem}", redeem.template),
                        *redeem.args,
                        *counted,
                        *log_values,
                    )
                result = logged[0]["result"]
            else:
                await ScanRecord.raw(_LOG, *log_values, result)
        except Exception as exc:
            if data.nonce and is_unique_violation(exc):  # the same nonce raced in: answer as the first did
                stored = await self._stored(nonce)
                if stored is not None:
                    return stored
            raise
        if result == "ok":
            from backend.governance.services import occupancy

            await occupancy.after_movement(data.venue_slug)
        log.info(
            "scan",
            extra={
                "venue": data.venue_slug,
                "result": result,
                "direction": data.direction,
                "gate": data.gate,
                "device": data.device_id,
                "offline": offline,
            },
        )
        return await self._out(nonce, result, data.venue_slug, data.direction, r, p)

    async def _out(
        self, nonce: str, result: str, venue: str, direction: str, r: dict | None, p: dict | None
    ) -> ScanOut:
        holder = None
        if p is not None and result in ("ok", "already_redeemed"):
            holder = mask_name(p["display_name"])
        return ScanOut(
            result=result,  # type: ignore[arg-type]
            nonce=nonce.split(":", 1)[1],
            venue_slug=venue,
            direction=direction,  # type: ignore[arg-type]
            reservation_id=str(r["public_id"]) if r else None,
            party_size=r["party_size"] if r else None,
            holder_name_masked=holder,
        )

    async def _stored(self, nonce: str) -> ScanOut | None:
        row = await ScanRecord.select().where(ScanRecord.nonce == nonce).first()
        if row is None:
            return None
        r = None
        if row["reservation_id"] is not None:
            r = (
                await Reservation.select(Reservation.public_id, Reservation.party_size)
                .where(Reservation.id == row["reservation_id"])
                .first()
            )
        p = await _pass_with_holder(row["pass_id"]) if row["pass_id"] else None
        out = await self._out(nonce, row["result"], row["venue_slug"], row["direction"], r, p)
        out.conflict = row["conflict"]
        return out

    async def batch(self, staff: AuthUser, items: list[OfflineScanIn]) -> ScanBatchOut:
        """Offline scans uploaded later, in the order they happened. A code that another gate already
        admitted, and that this gate admitted offline too, comes back `conflict: true`."""
        for item in items:
            require_venue_staff(staff, item.venue_slug)
            if not item.nonce:
                raise InvalidInput("nonce_required", "offline scans need their nonce", field="items.nonce")
        out = []
        for item in sorted(items, key=lambda i: i.scanned_at or utc_now()):
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
                )
            )
        return ScanBatchOut(items=out)

    async def scanner_keys(self, staff: AuthUser) -> ScannerKeysOut:
        """Everything a gate needs to decide offline: public keys, revocations, the day's entitlements."""
        venues = sorted(staff.venue_slugs) if "admin" not in staff.roles else []
        today = datetime.now(CITY_TZ).date()
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
                passes[user_id] = (await _pass_for(user_id))["pass_id"]
            names = (
                {
                    r["id"]: r["display_name"]
                    for r in await User.select(User.id, User.display_name).where(User.id.is_in(sorted(users)))
                }
                if users
                else {}
            )
            early = await _early_minutes(set(venues))
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
            keys=await keyring.public_keys(),
            revoked=revoked,
            generated_at=utc_now(),
            window_s=WINDOW_S,
            skew_s=SKEW_S,
            venue_slugs=venues,
            entitlements=entitlements,
        )

    async def counts(self, staff: AuthUser, venue_slug: str) -> VenueCountOut:
        require_venue_staff(staff, venue_slug)
        day = datetime.now(CITY_TZ).date().isoformat()
        rows = await ScanRecord.select(ScanRecord.direction, ScanRecord.party_size).where(
            (ScanRecord.venue_slug == venue_slug) & (ScanRecord.local_date == day) & (ScanRecord.result == "ok")
        )
        entries = sum(r["party_size"] for r in rows if r["direction"] == "in")
        exits = sum(r["party_size"] for r in rows if r["direction"] == "out")
        from backend.governance.tables import WalkIn  # visitors counted at the manual window

        for w in await WalkIn.select(WalkIn.direction, WalkIn.count).where(
            (WalkIn.venue_slug == venue_slug) & (WalkIn.local_date == day)
        ):
            if w["direction"] == "in":
                entries += w["count"]
            else:
                exits += w["count"]
        return VenueCountOut(
            venue_slug=venue_slug, date=day, entries_today=entries, exits_today=exits, occupancy=max(0, entries - exits)
        )


passes = PassService()
scans = ScanService()
