from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

import msgspec

Kind = Literal["complaint", "question", "lost_found", "sos"]
Status = Literal["open", "acknowledged", "escalated", "resolved", "closed"]
Priority = Literal["urgent", "high", "normal"]
AuthorRole = Literal["visitor", "staff", "governance", "admin", "system"]
ChangeEvent = Literal["opened", "escalated", "resolved"]
KINDS: tuple[str, ...] = get_args(Kind)
STATUSES: tuple[str, ...] = get_args(Status)

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 -]{6,20}$")]
AttachmentIds = Annotated[list[Annotated[str, msgspec.Meta(max_length=36)]], msgspec.Meta(max_length=6)]


class Location(msgspec.Struct, forbid_unknown_fields=True):
    """WGS-84, as everywhere in the API; `accuracy_m` as the phone's Geolocation API reports it."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None


class CaseIn(msgspec.Struct, forbid_unknown_fields=True):
    """POST /cases. An `sos` needs `location`."""

    kind: Kind
    text: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    venue_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] | None = None
    merchant_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    location: Location | None = None
    contact_phone: Phone | None = None
    attachment_ids: AttachmentIds = msgspec.field(default_factory=list)


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Text
    attachment_ids: AttachmentIds = msgspec.field(default_factory=list)


class CaseTransitionIn(msgspec.Struct, forbid_unknown_fields=True):
    to: Status
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class RatingIn(msgspec.Struct, forbid_unknown_fields=True):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class AssignedTo(msgspec.Struct, omit_defaults=True):
    venue_slug: str | None = None
    district: str | None = None


class Attachment(msgspec.Struct, omit_defaults=True):
    id: str
    url: str
    content_type: str
    bytes: int
    kind: str
    duration_s: float | None = None


class MessageOut(msgspec.Struct, omit_defaults=True):
    author_role: str
    text: str
    at: datetime
    attachments: list[Attachment] = msgspec.field(default_factory=list)


class TimelineEntry(msgspec.Struct, omit_defaults=True):
    status: str
    at: datetime
    by_role: str
    action: str
    note: str | None = None


class Rating(msgspec.Struct, omit_defaults=True):
    stars: int
    at: datetime
    comment: str | None = None


class CaseOut(msgspec.Struct, omit_defaults=True):
    """A case as its visitor and its handlers see it. `contact_phone` is always masked (a handler who
    must call reveals it through POST /cases/{id}/contact, which is audited)."""

    id: str
    kind: Kind
    status: Status
    priority: Priority
    created_at: datetime
    ack_due_at: datetime
    resolve_due_at: datetime
    assigned_to: AssignedTo
    overdue: bool = False
    text: str = ""
    merchant_id: str | None = None
    location: Location | None = None
    located_at: datetime | None = None
    contact_phone: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    escalated_at: datetime | None = None
    rating: Rating | None = None
    attachments: list[Attachment] = msgspec.field(default_factory=list)
    messages: list[MessageOut] | None = None
    timeline: list[TimelineEntry] | None = None
    mine: bool = False


class ContactOut(msgspec.Struct):
    contact_phone: str | None


class CaseChange(msgspec.Struct, frozen=True, kw_only=True):
    """What the cases room tells the rooms above it (the `case_changed` signal): no text, no phone beyond
    its mask, no location. Sent inside the transaction that made the change."""

    event: ChangeEvent
    case_id: str
    kind: str
    priority: str
    status: str
    venue_slug: str | None
    district: str | None
    opened_at: datetime
    ack_due_at: datetime
    resolve_due_at: datetime
    at: datetime
    contact_masked: str | None = None
    escalation_reason: str | None = None
