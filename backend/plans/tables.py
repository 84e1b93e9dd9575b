from piccolo.columns import Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Plan(Table, tablename="day_plans"):
    """A composed day. Its public id is a 128-bit random token the creator holds; only its SHA-256 is
    kept (`key_hash`), like a calendar token. Plans are made without an account; the account that books
    a plan becomes its owner and only it may book it from then on (docs/plans.md, "Storage")."""

    key_hash = Varchar(length=64, unique=True)
    day = Date(index=True)
    body = Text()  # the PlanOut as JSON, without its id
    party_size = Integer()
    owner_id = Integer(null=True, default=None, index=True)
    booked_at = Timestamptz(null=True, default=None)
    reservation_ids = Text(default="")  # JSON list of the public ids booked together
    created_at = Timestamptz(default=TimestamptzNow())
