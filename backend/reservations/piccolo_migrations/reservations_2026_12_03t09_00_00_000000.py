from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "An account's active bookings by a partial index (issue 22): the limit check reads only those"

# The booking limit counts an account's active bookings from today on. With only `user_id` indexed that
# count read every booking the account ever made; this index holds only active ones, by account and date,
# so the count reads at most the limit's few entries, whatever the account's history (both engines have
# partial indexes).
_ACTIVE = (
    "CREATE INDEX IF NOT EXISTS reservations_active_by_user ON reservations (user_id, visit_date) "
    "WHERE status IN ('confirmed', 'pending_payment', 'waitlisted')"
)


async def _create() -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl(_ACTIVE)


async def _drop() -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl("DROP INDEX IF EXISTS reservations_active_by_user")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reservations", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
