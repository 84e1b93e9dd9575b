from piccolo.columns import UUID, Array, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Case(Table, tablename="cases"):
    """A visitor's complaint, question, lost-and-found report or SOS, routed to a venue's staff or a
    district's governance users, with its deadlines. Free text and the contact phone are personal data:
    encrypted at rest (lib/personal_data), the phone also kept masked for staff and pushes."""

    public_id = UUID(unique=True)
    kind = Varchar(length=12)
    status = Varchar(length=16, index=True)
    priority = Varchar(length=8)
    visitor_id = Integer(index=True)
    venue_slug = Varchar(length=80, null=True, default=None, index=True)
    merchant_id = Varchar(length=40, null=True, default=None)
    district = Varchar(length=16, null=True, default=None, index=True)
    text_enc = Text()
    contact_phone_enc = Text(null=True, default=None)
    contact_phone_masked = Varchar(length=24, null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    accuracy_m = DoublePrecision(null=True, default=None)
    located_at = Timestamptz(null=True, default=None)
    attachment_ids = Array(base_column=Varchar(length=36))
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    ack_due_at = Timestamptz(index=True)
    resolve_due_at = Timestamptz(index=True)
    acknowledged_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None, index=True)  # set once: a case escalates once
    escalation_reason = Varchar(length=24, null=True, default=None)
    rating_stars = Integer(null=True, default=None)
    rating_comment_enc = Text(null=True, default=None)
    rated_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class CaseMessage(Table, tablename="case_messages"):
    """One message of a case's thread: the visitor's, or the staff's or governance's who handle it."""

    case_id = Integer(index=True)
    author_id = Integer()
    author_role = Varchar(length=12)
    text_enc = Text()
    attachment_ids = Array(base_column=Varchar(length=36))
    at = Timestamptz(default=TimestamptzNow())


class CaseEvent(Table, tablename="case_timeline"):
    """The timeline: every change of a case (opened, each status change, escalation, rating, a reveal of
    the contact phone), who made it (by role; `system` for the deadline worker) and when."""

    case_id = Integer(index=True)
    action = Varchar(length=20)
    status = Varchar(length=16)
    by_role = Varchar(length=12)
    by_id = Integer(null=True, default=None)
    note_enc = Text(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())
