"""Help, complaints and SOS (API.md, "Help, complaints and SOS"; docs/cases.md): a visitor files a case,
it is routed to a venue's staff or a district (routing.py), handled through a thread of messages and the
statuses open → acknowledged → resolved → closed (plus escalated), and rated once by its visitor.

Every status change is one conditional UPDATE on the status it leaves, so two handlers acting at once
move a case once (the other gets 409 `illegal_transition`); every change is written to the timeline in
the same transaction, and the changes the platform hears of (opened, escalated, resolved) are told
through `case_changed` inside that transaction (changes.py). Deadlines act by themselves: deadlines.py."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from backend.cases.changes import case_changed, change_of, publish, tell_visitor
from backend.cases.routing import PRIORITY, deadlines, route
from backend.cases.schemas import (
    CaseIn,
    CaseOut,
    CaseTransitionIn,
    ContactOut,
    Location,
    MessageIn,
    MessageOut,
    RatingIn,
)
from backend.cases.tables import Case, CaseEvent, CaseMessage
from backend.cases.views import HANDLERS, OPEN_STATUSES, case_out, reveal, role_in, seal, visible
from backend.lib.auth import AuthUser
from backend.lib.clock import clock
from backend.lib.db import write_transaction
from backend.lib.pagination import Page
from backend.lib.personal_data import mask_phone
from backend.lib.problems import Conflict, Forbidden, InvalidInput, NotFound
from backend.media.schemas import StoredFile
from backend.media.services import media
from backend.settings import get_settings

log = logging.getLogger("changxiang.cases")

# (from, to) → who may make the move: handlers (staff of the venue, governance, admin) or the visitor
MOVES: dict[tuple[str, str], frozenset[str]] = {
    ("open", "acknowledged"): frozenset(HANDLERS),
    ("open", "escalated"): frozenset(HANDLERS),
    ("acknowledged", "resolved"): frozenset(HANDLERS),
    ("acknowledged", "escalated"): frozenset(HANDLERS),
    ("escalated", "acknowledged"): frozenset(HANDLERS),
    ("escalated", "resolved"): frozenset(HANDLERS),
    ("resolved", "closed"): frozenset({*HANDLERS, "visitor"}),
}


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class CaseService:
    # ---- reading

    async def _row(self, case_id: str) -> dict[str, Any] | None:
        key = _uuid(case_id)
        if key is None:
            return None
        row: dict[str, Any] | None = await Case.select().where(Case.public_id == key).first()
        return row

    async def _visible_row(self, user: AuthUser, case_id: str) -> tuple[dict[str, Any], str]:
        """The case and the caller's role in it; 404 `case_not_found` for a case they may not see."""
        row = await self._row(case_id)
        role = role_in(user, row) if row is not None else None
        if row is None or role is None:
            raise NotFound("case_not_found", "no such case")
        return row, role

    async def get(self, user: AuthUser, case_id: str) -> CaseOut:
        row, role = await self._visible_row(user, case_id)
        return await self._full(row, role)

    async def _full(self, row: dict[str, Any], role: str) -> CaseOut:
        messages = await CaseMessage.select().where(CaseMessage.case_id == row["id"]).order_by(CaseMessage.id)
        timeline = await CaseEvent.select().where(CaseEvent.case_id == row["id"]).order_by(CaseEvent.id)
        return await case_out(row, role, clock.now(), messages, timeline)

    async def list(
        self,
        user: AuthUser,
        status: str | None = None,
        venue: str | None = None,
        overdue: bool | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Page[CaseOut]:
        """Mine (a visitor), my venues' (staff) and all (governance, admin), newest first."""
        now = clock.now()
        where: Any = visible(user)
        conditions: list[Any] = [] if where is None else [where]
        if status:
            conditions.append(Case.status == status)
        if venue:
            conditions.append(Case.venue_slug == venue)
        if overdue is not None:
            late = Case.status.is_in(list(OPEN_STATUSES)) & (
                (Case.acknowledged_at.is_null() & (Case.ack_due_at <= now))
                | (Case.acknowledged_at.is_not_null() & (Case.resolve_due_at <= now))
            )
            conditions.append(late if overdue else _not_late(now))
        query = Case.select()
        count = Case.count()
        for c in conditions:
            query = query.where(c)
            count = count.where(c)
        rows = await query.order_by(Case.id, ascending=False).limit(limit).offset(offset)
        total: int = await count
        items = [await case_out(r, role_in(user, r) or "visitor", now) for r in rows]
        return Page(items=items, total=total)

    # ---- filing

    async def open(self, user: AuthUser, data: CaseIn) -> CaseOut:
        text = data.text.strip()
        if data.kind == "sos" and data.location is None:
            raise InvalidInput("location_required", "an SOS needs the phone's location", field="location")
        if data.kind != "sos" and not text:
            raise InvalidInput("text_required", "say what happened", field="text")
        attachments = await media.owned(user.id, data.attachment_ids)
        venue_slug, district = await route(data)
        now = clock.now()
        ack_due, resolve_due = deadlines(data.kind, now, get_settings())
        loc = data.location
        row: dict[str, Any] = {
            "public_id": uuid.uuid4(),
            "kind": data.kind,
            "status": "open",
            "priority": PRIORITY[data.kind],
            "visitor_id": user.id,
            "venue_slug": venue_slug,
            "merchant_id": data.merchant_id,
            "district": district,
            "text_enc": seal(text, "case.text"),
            "contact_phone_enc": seal(data.contact_phone.strip(), "case.contact_phone") if data.contact_phone else None,
            "contact_phone_masked": mask_phone(data.contact_phone) if data.contact_phone else None,
            "lat": loc.lat if loc else None,
            "lng": loc.lng if loc else None,
            "accuracy_m": loc.accuracy_m if loc else None,
            "located_at": now if loc else None,
            "attachment_ids": attachments,
            "created_at": now,
            "ack_due_at": ack_due,
            "resolve_due_at": resolve_due,
            "updated_at": now,
        }
        async with write_transaction():
            inserted = await Case.insert(Case(**row)).returning(Case.id)
            row["id"] = inserted[0]["id"]
            await CaseEvent.insert(
                CaseEvent(case_id=row["id"], action="opened", status="open", by_role="visitor", by_id=user.id, at=now)
            )
            await case_changed.send(change_of(_defaults(row), "opened", now))
        row = _defaults(row)
        publish("sos" if data.kind == "sos" else "opened", row)
        log.info(
            "case opened",
            extra={"case": str(row["public_id"]), "kind": data.kind, "venue": venue_slug, "district": district},
        )
        return await self._full(row, "visitor")

    # ---- the thread

    async def message(self, user: AuthUser, case_id: str, data: MessageIn) -> MessageOut:
        row, role = await self._visible_row(user, case_id)
        if row["status"] == "closed":
            raise Conflict("case_closed", "the case is closed")
        attachments = await media.owned(user.id, data.attachment_ids)
        now = clock.now()
        await CaseMessage.insert(
            CaseMessage(
                case_id=row["id"],
                author_id=user.id,
                author_role=role,
                text_enc=seal(data.text.strip(), "case_message.text"),
                attachment_ids=attachments,
                at=now,
            )
        )
        await Case.update({Case.updated_at: now}).where(Case.id == row["id"])
        publish("message", row, author_role=role)
        if role != "visitor":
            tell_visitor(row, "case_reply")
        messages = await CaseMessage.select().where(CaseMessage.case_id == row["id"]).order_by(CaseMessage.id)
        out = await case_out(row, role, now, messages=messages[-1:])
        assert out.messages is not None
        return out.messages[0]

    # ---- statuses

    async def transition(self, user: AuthUser, case_id: str, data: CaseTransitionIn) -> CaseOut:
        row, role = await self._visible_row(user, case_id)
        move = (row["status"], data.to)
        allowed = MOVES.get(move)
        if allowed is None:
            raise Conflict("illegal_transition", f"a case cannot go from {move[0]} to {move[1]}")
        if role not in allowed:
            raise Forbidden("transition_forbidden", f"only the case's handlers may move it to {data.to}")
        now = clock.now()
        changes: dict[Any, Any] = {Case.status: data.to, Case.updated_at: now}
        if data.to == "acknowledged" and row["acknowledged_at"] is None:
            changes[Case.acknowledged_at] = now
        if data.to == "resolved":
            changes[Case.resolved_at] = now
        if data.to == "closed":
            changes[Case.closed_at] = now
        first_escalation = data.to == "escalated" and row["escalated_at"] is None
        if first_escalation:
            changes[Case.escalated_at] = now
            changes[Case.escalation_reason] = "by_" + role
        async with write_transaction():
            moved = (
                await Case.update(changes)
                .where((Case.id == row["id"]) & (Case.status == row["status"]))
                .returning(Case.id)
            )
            if not moved:
                raise Conflict("illegal_transition", "the case changed meanwhile; reload it")
            await CaseEvent.insert(
                CaseEvent(
                    case_id=row["id"],
                    action="escalated" if data.to == "escalated" else "transition",
                    status=data.to,
                    by_role=role,
                    by_id=user.id,
                    note_enc=seal(data.note, "case_event.note") if data.note else None,
                    at=now,
                )
            )
            fresh = await Case.select().where(Case.id == row["id"]).first()
            assert fresh is not None
            if data.to == "resolved":
                await case_changed.send(change_of(fresh, "resolved", now))
            elif first_escalation:
                await case_changed.send(change_of(fresh, "escalated", now))
        publish("status", fresh)
        if role != "visitor":
            tell_visitor(fresh, f"case_{data.to}")
        return await self._full(fresh, role)

    async def rate(self, user: AuthUser, case_id: str, data: RatingIn) -> CaseOut:
        """The visitor rates the outcome once, after it is resolved (409 `already_rated`,
        `case_not_resolved`)."""
        row, role = await self._visible_row(user, case_id)
        if role != "visitor":
            raise Forbidden("not_case_visitor", "only the visitor who filed the case rates it")
        now = clock.now()
        comment = data.comment.strip() if data.comment else ""
        async with write_transaction():
            rated = (
                await Case.update(
                    {
                        Case.rating_stars: data.stars,
                        Case.rating_comment_enc: seal(comment, "case.rating_comment") if comment else None,
                        Case.rated_at: now,
                        Case.updated_at: now,
                    }
                )
                .where((Case.id == row["id"]) & Case.rated_at.is_null() & Case.status.is_in(["resolved", "closed"]))
                .returning(Case.id)
            )
            if rated:
                await CaseEvent.insert(
                    CaseEvent(
                        case_id=row["id"],
                        action="rated",
                        status=row["status"],
                        by_role="visitor",
                        by_id=user.id,
                        at=now,
                    )
                )
        if not rated:
            current = await Case.select(Case.rated_at).where(Case.id == row["id"]).first()
            if current is not None and current["rated_at"] is not None:
                raise Conflict("already_rated", "this case has been rated")
            raise Conflict("case_not_resolved", "a case is rated once it is resolved")
        fresh = await Case.select().where(Case.id == row["id"]).first()
        assert fresh is not None
        return await self._full(fresh, role)

    # ---- SOS location, the contact phone, attachments

    async def locate(self, user: AuthUser, case_id: str, location: Location) -> CaseOut:
        """The phone's newer position while its SOS is open; straight to the staff and governance stream."""
        row, role = await self._visible_row(user, case_id)
        if role != "visitor":
            raise Forbidden("not_case_visitor", "only the visitor's phone updates its location")
        if row["kind"] != "sos":
            raise Conflict("not_sos", "only an SOS shares its location")
        now = clock.now()
        moved = (
            await Case.update(
                {
                    Case.lat: location.lat,
                    Case.lng: location.lng,
                    Case.accuracy_m: location.accuracy_m,
                    Case.located_at: now,
                    Case.updated_at: now,
                }
            )
            .where((Case.id == row["id"]) & Case.status.is_in(list(OPEN_STATUSES)))
            .returning(Case.id)
        )
        if not moved:
            raise Conflict("case_not_open", "the SOS is no longer open")
        fresh = await Case.select().where(Case.id == row["id"]).first()
        assert fresh is not None
        publish("location", fresh)
        return await case_out(fresh, role, now)

    async def reveal_contact(self, user: AuthUser, case_id: str) -> ContactOut:
        """The visitor's phone in full, for the handler who will call; on the timeline and (through the
        audit middleware, as every privileged write) on the audit log."""
        row, role = await self._visible_row(user, case_id)
        if role not in HANDLERS:
            raise Forbidden("not_case_handler", "only the case's handlers reveal the contact phone")
        phone = reveal(row["contact_phone_enc"], "case.contact_phone") or None
        await CaseEvent.insert(
            CaseEvent(
                case_id=row["id"],
                action="contact_revealed",
                status=row["status"],
                by_role=role,
                by_id=user.id,
                at=clock.now(),
            )
        )
        log.info("case contact revealed", extra={"case": case_id, "by": user.id, "role": role})
        return ContactOut(contact_phone=phone)

    async def attachment(self, user: AuthUser, case_id: str, upload_id: str) -> StoredFile:
        """A file attached to a case (or to one of its messages), for those who may see the case."""
        row, _ = await self._visible_row(user, case_id)
        ids = set(row["attachment_ids"] or [])
        for m in await CaseMessage.select(CaseMessage.attachment_ids).where(CaseMessage.case_id == row["id"]):
            ids.update(m["attachment_ids"] or [])
        if upload_id not in ids:
            raise NotFound("upload_not_found", "no such attachment")
        return await media.read(upload_id)


def _not_late(now: Any) -> Any:
    """Not overdue: closed or resolved, or within its current deadline."""
    return Case.status.is_in(["resolved", "closed"]) | (
        (Case.acknowledged_at.is_null() & (Case.ack_due_at > now))
        | (Case.acknowledged_at.is_not_null() & (Case.resolve_due_at > now))
    )


def _defaults(row: dict[str, Any]) -> dict[str, Any]:
    """A row written here, with the columns left to their defaults, as a SELECT would give it."""
    base = {
        "acknowledged_at": None,
        "resolved_at": None,
        "closed_at": None,
        "escalated_at": None,
        "escalation_reason": None,
        "rating_stars": None,
        "rating_comment_enc": None,
        "rated_at": None,
    }
    return base | row


cases = CaseService()
