from piccolo.columns import Array, Boolean, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="users"):
    email = Varchar(length=254, unique=True, index=True)
    password_hash = Text()
    display_name = Varchar(length=80)
    roles = Array(base_column=Varchar(length=20))
    venue_slugs = Array(base_column=Varchar(length=80))
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
