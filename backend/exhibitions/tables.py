from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Exhibition(Table, tablename="exhibitions"):
    slug = Varchar(length=80, unique=True)
    venue_slug = Varchar(length=80, null=True, default=None)
    title_zh = Varchar(length=200)
    title_en = Varchar(length=300)
    summary_zh = Text(default="")
    summary_en = Text(default="")
    attribution_zh = Text(default="")  # IIIF requiredStatement
    attribution_en = Text(default="")
    rights = Varchar(length=200)  # a Creative Commons or RightsStatements.org URI
    sections = Text(default="[]")  # JSON [{key, label: {zh, en}}]: the manifest's Ranges
    sort_order = Integer(default=0)
    content_hash = Varchar(length=64, default="")
    # publication (backend/lib/publication.py)
    status = Varchar(length=16, default="draft", index=True)
    publish_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ExhibitionItem(Table, tablename="exhibition_items"):
    exhibition = ForeignKey(references=Exhibition, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    key = Varchar(length=80)  # unique within the exhibition; part of the Canvas id
    section = Varchar(length=80, null=True, default=None)
    label_zh = Varchar(length=200)
    label_en = Varchar(length=300)
    date_zh = Varchar(length=120, default="")
    date_en = Varchar(length=160, default="")
    commentary_zh = Text()
    commentary_en = Text()
    image = Varchar(length=300)  # /media/… path
    width = Integer()
    height = Integer()
    audio_zh = Varchar(length=300, null=True, default=None)
    audio_en = Varchar(length=300, null=True, default=None)
