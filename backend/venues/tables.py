from piccolo.columns import Array, Boolean, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Venue(Table, tablename="venues"):
    slug = Varchar(length=80, unique=True)
    category = Varchar(length=32, index=True)
    district = Varchar(length=16, index=True)
    name_zh = Varchar(length=120)
    name_en = Varchar(length=160)
    address_zh = Text()
    address_en = Text()
    description_zh = Text()
    description_en = Text()
    accessibility_zh = Text(default="")
    accessibility_en = Text(default="")
    lat = DoublePrecision(index=True)
    lng = DoublePrecision(index=True)
    opening_hours = Text()
    capacity = Integer()
    daily_capacity = Integer()
    reservation_required = Boolean(default=False)
    price_fen = Integer(default=0)
    phone = Varchar(length=40, null=True, default=None)
    website = Varchar(length=300, null=True, default=None)
    tags = Array(base_column=Varchar(length=40))
    images = Array(base_column=Varchar(length=300))
    sort_order = Integer(default=0)
    # timed-entry rules (issue 3): slot length, start interval, booking window, cancel cut-off
    slot_minutes = Integer(default=60)
    slot_interval_minutes = Integer(default=60)
    advance_days = Integer(default=7)
    cancel_cutoff_minutes = Integer(default=30)
    allow_reentry = Boolean(default=False)  # may a visitor who left come back on the same booking?
    entry_early_minutes = Integer(default=30)  # how early before the slot the gate admits
    content_hash = Varchar(length=64)
    updated_at = Timestamptz(default=TimestamptzNow())
