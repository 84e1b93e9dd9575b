"""Who sees a case, in which role, and a case as they see it (decrypted; masked where they are not its
visitor)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from piccolo.columns.combination import Where, WhereRaw

from backend.cases.schemas import (
    AssignedTo,
    Attachment,
    CaseOut,
    Location,
    MessageOut,
    Rating,
    TimelineEntry,
)
from backend.cases.tables import Case
from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ
from backend.lib.personal_data import vault
from backend.lib.request_log import mask_personal
from backend.media.services import media

HANDLERS = ("staff", "governance", "admin")
OPEN_STATUSES = ("open", "acknowledged", "escalated")
ATTACHMENT_URL = "/api/v1/cases/{case}/attachments/{upload}"


def visible(user: AuthUser) -> Where | WhereRaw | None:
    """The cases `user` may see: their own; staff also their venues'; governance and admin all (None)."""
    if user.has_any("governance", "admin"):
        return None
    where: Any = Case.visitor_id == user.id
    if "staff" in user.roles and user.venue_slugs:
        where = where | Case.venue_slug.is_in(sorted(user.venue_slugs))
    return cast("Where | WhereRaw", where)  # Piccolo types `|` of two Wheres as Any


def role_in(user: AuthUser, row: dict[str, Any]) -> str | None:
    """`visitor` (it is theirs), `admin`, `governance`, `staff` (of its venue), or None: not theirs to see."""
    if row["visitor_id"] == user.id:
        return "visitor"
    if "admin" in user.roles:
        return "admin"
    if "governance" in user.roles:
        return "governance"
    if "staff" in user.roles and row["venue_slug"] is not None and row["venue_slug"] in user.venue_slugs:
        return "staff"
    return None


def reveal(token: str | None, context: str) -> str:
    return vault().decrypt(token, context) if token else ""


def seal(text: str, context: str) -> str:
    return vault().encrypt(text, context)


def local(at: datetime | None) -> datetime | None:
    return at.astimezone(CITY_TZ) if at is not None else None


def is_overdue(row: dict[str, Any], now: datetime) -> bool:
    if row["status"] not in OPEN_STATUSES:
        return False
    due = row["ack_due_at"] if row["acknowledged_at"] is None else row["resolve_due_at"]
    return bool(due <= now)


async def attachments_of(case_id: str, ids: Sequence[str]) -> list[Attachment]:
    rows = await media.describe(ids)
    return [
        Attachment(
            id=i,
            url=ATTACHMENT_URL.format(case=case_id, upload=i),
            content_type=rows[i]["content_type"],
            bytes=rows[i]["bytes"],
            kind=rows[i]["kind"],
            duration_s=rows[i]["duration_s"],
        )
        for i in ids
        if i in rows
    ]


async def case_out(
    row: dict[str, Any],
    viewer_role: str,
    now: datetime,
    messages: list[dict[str, Any]] | None = None,
    timeline: list[dict[str, Any]] | None = None,
) -> CaseOut:
    """The case for a viewer in `viewer_role`. The visitor's own words are shown to others with phone and
    ID numbers masked; the contact phone is always masked (the reveal is its own audited call)."""
    public_id = str(row["public_id"])
    text = reveal(row["text_enc"], "case.text")
    if viewer_role != "visitor":
        text = mask_personal(text)
    rating = None
    if row["rated_at"] is not None:
        comment = reveal(row["rating_comment_enc"], "case.rating_comment") or None
        rating = Rating(stars=row["rating_stars"], at=row["rated_at"].astimezone(CITY_TZ), comment=comment)
    location = None
    if row["lat"] is not None:
        location = Location(lat=row["lat"], lng=row["lng"], accuracy_m=row["accuracy_m"])
    out = CaseOut(
        id=public_id,
        kind=row["kind"],
        status=row["status"],
        priority=row["priority"],
        created_at=row["created_at"].astimezone(CITY_TZ),
        ack_due_at=row["ack_due_at"].astimezone(CITY_TZ),
        resolve_due_at=row["resolve_due_at"].astimezone(CITY_TZ),
        assigned_to=AssignedTo(venue_slug=row["venue_slug"], district=row["district"]),
        overdue=is_overdue(row, now),
        text=text,
        merchant_id=row["merchant_id"],
        location=location,
        located_at=local(row["located_at"]),
        contact_phone=row["contact_phone_masked"],
        acknowledged_at=local(row["acknowledged_at"]),
        resolved_at=local(row["resolved_at"]),
        closed_at=local(row["closed_at"]),
        escalated_at=local(row["escalated_at"]),
        rating=rating,
        attachments=await attachments_of(public_id, row["attachment_ids"] or []),
        mine=viewer_role == "visitor",
    )
    if messages is not None:
        out.messages = [await _message_out(public_id, m, viewer_role) for m in messages]
    if timeline is not None:
        out.timeline = [
            TimelineEntry(
                status=t["status"],
                at=t["at"].astimezone(CITY_TZ),
                by_role=t["by_role"],
                action=t["action"],
                note=reveal(t["note_enc"], "case_event.note") or None,
            )
            for t in timeline
        ]
    return out


async def _message_out(case_id: str, m: dict[str, Any], viewer_role: str) -> MessageOut:
    text = reveal(m["text_enc"], "case_message.text")
    if m["author_role"] == "visitor" and viewer_role != "visitor":
        text = mask_personal(text)
    return MessageOut(
        author_role=m["author_role"],
        text=text,
        at=m["at"].astimezone(CITY_TZ),
        attachments=await attachments_of(case_id, m["attachment_ids"] or []),
    )
