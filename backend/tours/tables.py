from piccolo.columns import Array, DoublePrecision, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Poi(Table, tablename="pois"):
    """A point of interest ("readable building"): its `key` is the stable id a plaque's QR carries."""

    key = Varchar(length=80, unique=True)
    name_zh = Varchar(length=120)
    name_en = Varchar(length=200)
    lat = DoublePrecision()
    lng = DoublePrecision()
    text_zh = Text()
    text_en = Text()
    audio_zh = Varchar(length=300, null=True, default=None)  # /media/… path
    audio_en = Varchar(length=300, null=True, default=None)
    images = Array(base_column=Varchar(length=300))
    content_hash = Varchar(length=64)
    updated_at = Timestamptz(default=TimestamptzNow())


class Tour(Table, tablename="tours"):
    slug = Varchar(length=80, unique=True)
    venue_slug = Varchar(length=80, null=True, default=None)
    title_zh = Varchar(length=160)
    title_en = Varchar(length=240)
    summary_zh = Text(default="")
    summary_en = Text(default="")
    duration_min = Integer()
    distance_m = DoublePrecision()  # geodesic length of `line`
    line = Text()  # JSON [[lat, lng], …]: the walking line through every stop, in order
    images = Array(base_column=Varchar(length=300))
    sort_order = Integer(default=0)
    content_hash = Varchar(length=64, default="")
    # publication (backend/lib/publication.py)
    status = Varchar(length=16, default="draft", index=True)
    publish_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class Stop(Table, tablename="tour_stops"):
    tour = ForeignKey(references=Tour, on_delete=OnDelete.cascade, index=True)
    position = Integer()  # 1, 2, … along the tour
    poi = ForeignKey(references=Poi, on_delete=OnDelete.restrict, index=True)
    text_zh = Text()  # narration at this stop (by default the POI's story)
    text_en = Text()
