from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.engine import engine_finder

ID = "2026-12-04T04:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The scan log's three single-column indexes become one by day and venue (issue 22)"

# Every scan appends a row to scan_log, and every index is one more B-tree page written with it. The
# reads of the log are by day (open data, governance) or by day and venue (the forecast's history, the
# offline gate keys' counts); none is by venue alone or by reservation. So `venue_slug`, `local_date` and
# `reservation_id` lose their own indexes and one on (local_date, venue_slug) serves every read: a gate
# scan writes three index entries instead of five (the nonce's unique index stays).
_BY_DAY = "CREATE INDEX IF NOT EXISTS scan_log_by_day ON scan_log (local_date, venue_slug)"


async def _create() -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl(_BY_DAY)


async def _drop() -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl("DROP INDEX IF EXISTS scan_log_by_day")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="passes", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    for column, column_class in (("venue_slug", Varchar), ("local_date", Varchar), ("reservation_id", Integer)):
        manager.alter_column(
            table_class_name="ScanRecord",
            tablename="scan_log",
            column_name=column,
            db_column_name=column,
            params={"index": False},
            old_params={"index": True},
            column_class=column_class,
            old_column_class=column_class,
            schema=None,
        )
    return manager
