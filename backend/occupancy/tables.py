"""Occupancy's tables. Their database tables and migration history stay with the apps that created
them (`gate_counts`: passes, `gov_walk_ins` and `gov_directives`: governance), whose piccolo_app.py
still registers these classes: no migration moved (docs/decisions.md, "Rooms that stand on their own")."""

from piccolo.columns import Array, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class GateCount(Table, tablename="gate_counts"):
    """People through a venue's gates (and its manual window) per counting window: kept in the same
    atomic write as the scan that moves them, so occupancy is one row, not a sum over the scan log.
    A window runs from local midnight, or from the venue's last closing time that day (the reset)."""

    count_key = Varchar(length=140, unique=True)  # venue_slug|window_start (ISO, UTC)
    venue_slug = Varchar(length=80, index=True)
    local_date = Varchar(length=10, index=True)  # YYYY-MM-DD in Asia/Shanghai
    window_start = Timestamptz()
    entries = Integer(default=0)
    exits = Integer(default=0)


class WalkIn(Table, tablename="gov_walk_ins"):
    """Visitors counted in (or out) at a venue's manual window, without a booking."""

    venue_slug = Varchar(length=80, index=True)
    local_date = Varchar(length=10, index=True)  # YYYY-MM-DD in Asia/Shanghai
    direction = Varchar(length=3)  # in | out
    count = Integer()  # type: ignore[assignment]  # shadows Table.count(); a rename needs a migration
    staff_user_id = Integer()
    at = Timestamptz(default=TimestamptzNow())


class Directive(Table, tablename="gov_directives"):
    """An order of the platform: limit, close or reopen a venue or a district for a window. Governance
    receives and applies them (its slots, its cancellations); occupancy reads the ones in force, which
    set a venue's instantaneous capacity."""

    directive_id = Varchar(length=80, unique=True)
    type = Varchar(length=10)
    venue_slug = Varchar(length=80, null=True, default=None)
    district = Varchar(length=16, null=True, default=None)
    limit_ratio = DoublePrecision(null=True, default=None)
    valid_from = Timestamptz()
    valid_until = Timestamptz()
    reason = Text(default="")
    venue_slugs = Array(base_column=Varchar(length=80))
    slots_affected = Integer(default=0)
    reservations_cancelled = Integer(default=0)
    received_at = Timestamptz(default=TimestamptzNow())
