from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.reservations.tables import Reservation


class HourlyCount(Table, tablename="forecast_history"):
    """People inside a venue per local hour, as history for the forecast. Rows written by `changxiang
    simulate-history` are `simulated` (docs/forecast.md); days with real counts (the scan log, walk-ins)
    are read from those instead (`backend.forecast.history`)."""

    key = Varchar(length=120, unique=True)  # "<venue>|<YYYY-MM-DD>|<HH>"
    venue_slug = Varchar(length=80, index=True)
    local_date = Date(index=True)
    hour = Integer()  # local hour, 0..23
    hour_start = Timestamptz()
    inside = Integer()  # people inside on average during the hour
    entries = Integer(default=0)  # people who came in during the hour
    simulated = Boolean(default=True)


class RebookingOffer(Table, tablename="rebooking_offers"):
    """One offer to the holder of a disrupted booking (a closed slot, a directive, a CAP warning): another slot
    of the venue, a slot at an alternative venue, or a refund; open until chosen or `expires_at`. One per
    booking and disrupted slot (`offer_key`). Accepted exactly once: a conditional UPDATE of `status` in the
    transaction that moves or refunds the booking. An offer for a booking its closure ended (`ended_booking`)
    owes the refund when it expires unchosen."""

    public_id = UUID(unique=True)
    offer_key = Varchar(length=60, unique=True)  # "<reservation id>|<slot id>"
    user_id = Integer(index=True)
    reservation = ForeignKey(references=Reservation, index=True)
    venue_slug = Varchar(length=80)
    slot_id = Integer()
    reason = Varchar(length=20)  # slot_closed | directive_close | directive_limit | warning
    detail = Text(default="")
    weather = Boolean(default=False)
    ended_booking = Boolean(default=False)
    choices = Text()  # JSON: [{kind, slot_id?, venue_slug?, starts_at?, ...}]
    status = Varchar(length=12, default="open", index=True)  # open | accepted | expired
    chosen = Text(null=True, default=None)  # JSON of the choice taken
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    resolved_at = Timestamptz(null=True, default=None)
