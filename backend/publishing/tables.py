from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Transition(Table, tablename="publication_transitions"):
    """One move of one item between publication states: who (None: the scheduler) and when."""

    kind = Varchar(length=24, index=True)  # events | articles | tours | exhibitions
    item_id = Integer(index=True)
    from_state = Varchar(length=16)
    to_state = Varchar(length=16)
    user_id = Integer(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())
