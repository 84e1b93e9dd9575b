from piccolo.columns import Boolean, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class TicketRule(Table, tablename="ticket_rules"):
    """A venue's price rule for one ticket type (content/ticket_rules.toml): `full`, `half`, `free`,
    `fixed:<fen>` or `none`."""

    key = Varchar(length=120, unique=True)  # "<venue>|<ticket type>"
    venue_slug = Varchar(length=80, index=True)
    ticket_type = Varchar(length=20)
    rule = Varchar(length=30)


class Hall(Table, tablename="halls"):
    """An auditorium with a seat map (content/seat_maps.toml; the layouts are drawn by us)."""

    slug = Varchar(length=80, unique=True)
    venue_slug = Varchar(length=80, index=True)
    name_zh = Varchar(length=120)
    name_en = Varchar(length=160)


class Seat(Table, tablename="hall_seats"):
    """One seat of a hall: its section, row and number, where it is drawn, its price zone."""

    key = Varchar(length=200, unique=True)  # "<hall>|<section>|<row>|<number>": loading is idempotent
    hall_slug = Varchar(length=80, index=True)
    section = Varchar(length=40)
    section_zh = Varchar(length=60)
    section_en = Varchar(length=80)
    section_order = Integer(default=0)
    row = Integer()
    number = Integer()
    x = DoublePrecision()
    y = DoublePrecision()
    zone = Varchar(length=20)
    accessible = Boolean(default=False)  # a wheelchair place (with a companion seat beside it)
    blocked = Boolean(default=False)  # never sold (sound desk, camera position)


class Performance(Table, tablename="performances"):
    """A dated occurrence of an event that sells tickets. Its seats (capacity, booked) are a reservations
    slot of kind `performance` (`slot_id`), so booking, payment, refunds, the pass and the gate are the
    slots' own; `zones` are `[{"zone", "price_fen"}]` as JSON."""

    key = Varchar(length=160, unique=True)  # "<event>|<starts_at ISO>"
    event_slug = Varchar(length=80, index=True)
    venue_slug = Varchar(length=80, index=True)
    hall_slug = Varchar(length=80, null=True, default=None)
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    slot_id = Integer(unique=True)
    zones = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class SeatClaim(Table, tablename="seat_claims"):
    """A seat of a performance held or sold. `(performance_id, seat_id)` is unique (a migration's index):
    a seat is claimed once. A hold has `expires_at` and no reservation; a booking turns the hold into the
    reservation's (`reservation_id`, no expiry). Claims of lapsed holds and of bookings that ended are
    stale: the next hold of those seats deletes them in its own transaction."""

    performance_id = Integer(index=True)
    seat_id = Integer()
    hold_id = Varchar(length=40, index=True)
    user_id = Integer()
    reservation_id = Integer(null=True, default=None, index=True)
    expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Show(Table, tablename="online_shows"):
    """An online show (云演艺): a recorded performance packaged as HLS under content/media/shows/<slug>/."""

    slug = Varchar(length=80, unique=True)
    event_slug = Varchar(length=80, null=True, default=None)  # holders of its performances may watch
    venue_slug = Varchar(length=80, null=True, default=None)
    title_zh = Varchar(length=160)
    title_en = Varchar(length=200)
    summary_zh = Text(default="")
    summary_en = Text(default="")
    price_fen = Integer(default=0)
    duration_s = Integer(default=0)
    poster = Varchar(length=300, null=True, default=None)
