from piccolo.columns import UUID, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Upload(Table, tablename="media_uploads"):
    """A file a signed-in account uploaded (a photo or a voice note), as stored: its content sniffed,
    images re-encoded without metadata. The bytes live in the storage (`storage.py`) under `storage_key`;
    who may read them is decided by what the upload is attached to (a case: the cases room)."""

    public_id = UUID(unique=True)
    owner_id = Integer(index=True)
    kind = Varchar(length=8)  # image | audio
    content_type = Varchar(length=40)
    bytes = Integer()
    duration_s = DoublePrecision(null=True, default=None)
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    sha256 = Varchar(length=64)
    storage_key = Varchar(length=120, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Photo(Table, tablename="media_photos"):
    """A photo of the marketers' library: the cleaned image (no metadata) in the storage under
    `storage_key`, its alt text in both languages and its credit, and a tiny blurred placeholder.
    Its variants (library.py) are made from the stored bytes, which never change."""

    public_id = UUID(unique=True)
    owner_id = Integer(index=True)
    alt_zh = Varchar(length=300)
    alt_en = Varchar(length=300)
    credit = Varchar(length=200)
    content_type = Varchar(length=40)
    bytes = Integer()
    width = Integer()
    height = Integer()
    sha256 = Varchar(length=64)
    storage_key = Varchar(length=120, unique=True)
    placeholder = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class GalleryEntry(Table, tablename="media_gallery_entries"):
    """One photo at one place in the gallery of one item (`kind`: venues, events, articles, tours,
    exhibitions; `item`: its slug)."""

    kind = Varchar(length=24, index=True)
    item = Varchar(length=80, index=True)
    position = Integer()
    photo_id = UUID(index=True)
