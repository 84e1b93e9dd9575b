from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Transition(Table, tablename="publication_transitions"):
    """One move of one item between publication states: who (None: the scheduler) and when."""

    kind = Varchar(length=24, index=True)  # events | articles | tours | exhibitions | campaigns | featured
    item_id = Integer(index=True)
    from_state = Varchar(length=16)
    to_state = Varchar(length=16)
    user_id = Integer(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())


class FeaturedList(Table, tablename="featured_lists"):
    """An editors' pick list (编辑推荐, issue 21 item 3): a marketer's ordered choice of published venues,
    events, tours, exhibitions and articles, published through the same flow as they are."""

    slug = Varchar(length=80, unique=True)
    title_zh = Varchar(length=160)
    title_en = Varchar(length=200, default="")
    items = Text(default="[]")  # JSON [{kind, slug, note: {zh, en}}], in the marketer's order
    content_hash = Varchar(length=64, default="")
    # publication (backend/lib/publication.py)
    status = Varchar(length=16, default="draft", index=True)
    publish_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
