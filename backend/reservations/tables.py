from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Slot(Table, tablename="slots"):
    """A timed-entry slot. `booked` counts seats held by confirmed and pending-payment bookings; it only
    moves in conditional UPDATEs (`booked + n <= capacity`), never read-then-written."""

    key = Varchar(length=140, unique=True)  # "<venue>|<starts_at ISO>": generation is idempotent
    venue_slug = Varchar(length=80, index=True)
    local_date = Date(index=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    capacity = Integer()
    booked = Integer(default=0)
    status = Varchar(length=10, default="open")  # open | closed
    price_fen = Integer(default=0)
    kind = Varchar(length=12, default="entry")  # entry (timed entry) | performance (the tickets room's)


class Reservation(Table, tablename="reservations"):
    public_id = UUID(unique=True)
    user_id = Integer(index=True)
    slot = ForeignKey(references=Slot, index=True)
    venue_slug = Varchar(length=80, index=True)
    visit_date = Date()
    status = Varchar(length=20, index=True)  # confirmed | pending_payment | waitlisted | cancelled | expired
    party_size = Integer()
    amount_fen = Integer(default=0)
    hold_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Varchar(length=40, null=True, default=None)
    # entry at the gate (issue 4): changed only by conditional UPDATEs in the scan decision
    entries = Integer(default=0)
    inside = Boolean(default=False)
    first_entry_at = Timestamptz(null=True, default=None)
    # the number the venue calls about this visit (issue 21): AES-GCM encrypted, and masked for staff lists
    contact_phone_enc = Text(null=True, default=None)
    contact_phone_masked = Varchar(length=20, null=True, default=None)


class Visitor(Table, tablename="reservation_visitors"):
    """A named visitor. Name and ID number are AES-GCM encrypted; only masks and a keyed HMAC are clear."""

    reservation = ForeignKey(references=Reservation, index=True)
    position = Integer()
    name_enc = Text()
    name_masked = Varchar(length=80)
    id_type = Varchar(length=20)
    id_number_enc = Text()
    id_number_masked = Varchar(length=40)
    id_fingerprint = Varchar(length=64, index=True)
    # the visitor's ticket (issue 18): type, price paid, the card the gate must see, the seat
    ticket_type = Varchar(length=20, default="adult")
    price_fen = Integer(default=0)
    check_at_gate = Varchar(length=40, null=True, default=None)
    seat_id = Integer(null=True, default=None)
    seat_label = Varchar(length=120, null=True, default=None)


class VisitorClaim(Table, tablename="visitor_claims"):
    """One person, one booking per venue per day: a unique key the database enforces."""

    claim_key = Varchar(length=220, unique=True)  # "<venue>|<date>|<id fingerprint>"
    reservation = ForeignKey(references=Reservation, index=True)


class IdempotencyRecord(Table, tablename="idempotency_records"):
    """The first answer to a write sent with an `Idempotency-Key`, replayed for the same key."""

    key = Varchar(length=300, unique=True)  # "<user id>:<operation>:<client key>"
    request_hash = Varchar(length=64)
    status_code = Integer()
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class Notification(Table, tablename="notifications"):
    """An in-app message for one account (waitlist promoted, slot closed, ...)."""

    user_id = Integer(index=True)
    kind = Varchar(length=40)
    reservation_public_id = UUID(null=True, default=None)
    venue_slug = Varchar(length=80, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
    detail = Text(null=True, default=None)  # a short text the message carries (a warning's headline)
