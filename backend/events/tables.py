from piccolo.columns import Array, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Event(Table, tablename="events"):
    """An event, or a series of them (`rrule` + `exdates`, expanded in Asia/Shanghai local time).

    `starts_at`/`ends_at` are the first occurrence; every later one keeps its wall-clock time and
    duration. `search_text` is the normalised zh+en text `q` matches (see docs/decisions.md)."""

    slug = Varchar(length=80, unique=True)
    category = Varchar(length=32, index=True)
    venue_slug = Varchar(length=80, null=True, default=None, index=True)
    district = Varchar(length=16, index=True)
    title_zh = Varchar(length=160)
    title_en = Varchar(length=200, default="")
    summary_zh = Text(default="")
    summary_en = Text(default="")
    description_zh = Text(default="")
    description_en = Text(default="")
    place_zh = Varchar(length=160, default="")  # the venue's (or meeting point's) name
    place_en = Varchar(length=200, default="")
    address_zh = Text(default="")
    address_en = Text(default="")
    lat = DoublePrecision()
    lng = DoublePrecision()
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    rrule = Text(default="")  # RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=SA;COUNT=8
    exdates = Array(base_column=Varchar(length=32))  # local start times (ISO) of cancelled occurrences
    price_fen = Integer(default=0)
    image = Varchar(length=300, null=True, default=None)
    search_text = Text(default="")
    sequence = Integer(default=0)  # RFC 5545 SEQUENCE: bumped on every change a subscriber should see
    content_hash = Varchar(length=64, default="")
    # publication (backend/lib/publication.py)
    status = Varchar(length=16, default="draft", index=True)
    publish_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class Article(Table, tablename="articles"):
    """A travel guide (出行攻略) or a news item."""

    slug = Varchar(length=80, unique=True)
    kind = Varchar(length=16, index=True)  # guide | news
    title_zh = Varchar(length=160)
    title_en = Varchar(length=200, default="")
    summary_zh = Text(default="")
    summary_en = Text(default="")
    body_zh = Text(default="")
    body_en = Text(default="")
    image = Varchar(length=300, null=True, default=None)
    venue_slugs = Array(base_column=Varchar(length=80))
    content_hash = Varchar(length=64, default="")
    status = Varchar(length=16, default="draft", index=True)
    publish_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class CalendarToken(Table, tablename="calendar_tokens"):
    """The secret of one account's subscribable calendar (`/me/calendar.ics?token=`): only its SHA-256
    is kept; rotating replaces it, revoking deletes it."""

    user_id = Integer(unique=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
