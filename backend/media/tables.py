from piccolo.columns import UUID, DoublePrecision, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Upload(Table, tablename="media_uploads"):
    """A file a signed-in account uploaded (a photo or a voice note), as stored: its content sniffed,
    images re-encoded without metadata. The bytes live in the storage (`storage.py`) under `storage_key`;
    who may read them is decided by what the upload is attached to (a case: the cases room)."""

    public_id = UUID(unique=True, index=True)
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
