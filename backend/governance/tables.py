from piccolo.columns import UUID, Array, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxMessage(Table, tablename="gov_outbox"):
    """A message for the supervision platform, written in the transaction that caused it and drained by
    a worker. `body` is the exact JSON sent (every retry is byte-identical, so the platform dedups on
    `id`). A worker claims rows by moving `leased_until` forward; a row is done once `sent_at` is set."""

    message_id = Varchar(length=36, unique=True)
    dedup_key = Varchar(length=160, unique=True)  # e.g. "occupancy:<period>", "daily_visitors:<date>"
    type = Varchar(length=20)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    leased_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None, index=True)
    last_error = Varchar(length=200, null=True, default=None)


class VenueLevel(Table, tablename="gov_venue_levels"):
    """The comfort level last reported per venue: a change is pushed at once (one replica wins the UPDATE)."""

    venue_slug = Varchar(length=80, unique=True)
    level = Varchar(length=20)
    changed_at = Timestamptz(default=TimestamptzNow())


class DirectiveSlot(Table, tablename="gov_directive_slots"):
    """A slot a directive changed, with what it offered before (so `reopen` restores it)."""

    slot_id = Integer(unique=True)
    original_capacity = Integer()
    closed = Boolean(default=False)


class Alert(Table, tablename="gov_alerts"):
    """A CAP 1.2 warning received from the platform, with the venues inside its areas."""

    identifier = Varchar(length=200, unique=True)
    sender = Varchar(length=200)
    sent = Timestamptz()
    msg_type = Varchar(length=10)
    event = Varchar(length=200)
    severity = Varchar(length=10)
    urgency = Varchar(length=10)
    certainty = Varchar(length=10)
    headline_zh = Text(default="")
    headline_en = Text(default="")
    instruction_zh = Text(default="")
    instruction_en = Text(default="")
    effective = Timestamptz(null=True, default=None)
    expires = Timestamptz(null=True, default=None)
    area_desc = Text(default="")
    venue_slugs = Array(base_column=Varchar(length=80))
    cancelled = Boolean(default=False)
    received_at = Timestamptz(default=TimestamptzNow())


class TourGroup(Table, tablename="gov_tour_groups"):
    """A travel agency's group (旅行社组团): the guide's name and phone are encrypted and masked like a
    visitor's; the itinerary's bookings are ordinary reservations of the whole party."""

    public_id = UUID(unique=True)
    agency_user_id = Integer(index=True)
    visit_date = Varchar(length=10, index=True)
    size = Integer()
    coach_plate = Varchar(length=16)
    guide_name_enc = Text()
    guide_name_masked = Varchar(length=80)
    guide_phone_enc = Text()
    guide_phone_masked = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())


class TourGroupStop(Table, tablename="gov_tour_group_stops"):
    group_id = Integer(index=True)
    position = Integer()
    venue_slug = Varchar(length=80, index=True)
    slot_id = Integer(null=True, default=None)
    reservation_id = Integer(null=True, default=None)
    arrives_at = Timestamptz()
