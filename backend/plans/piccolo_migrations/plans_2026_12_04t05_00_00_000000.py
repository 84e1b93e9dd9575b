from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-04T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "A unique column is indexed once, by its unique constraint (issue 22)"

# Each of these columns had a UNIQUE constraint, whose index serves every lookup, and a second, plain
# index on the same column that served none: every insert (and every update that is not HOT) wrote both.


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="plans", description=DESCRIPTION)
    for table_class_name, tablename, column, column_class in (
        ("Plan", "day_plans", "key_hash", Varchar),
    ):
        manager.alter_column(
            table_class_name=table_class_name,
            tablename=tablename,
            column_name=column,
            db_column_name=column,
            params={"index": False},
            old_params={"index": True},
            column_class=column_class,
            old_column_class=column_class,
            schema=None,
        )
    return manager
