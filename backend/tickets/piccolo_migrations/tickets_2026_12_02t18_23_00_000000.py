from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T18:23:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tickets: a seat of a performance is claimed once (held or sold), whatever the race"

_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS seat_claims_performance_seat ON seat_claims (performance_id, seat_id)",
    "CREATE INDEX IF NOT EXISTS hall_seats_hall_zone ON hall_seats (hall_slug, zone)",
]
_NAMES = ["seat_claims_performance_seat", "hall_seats_hall_zone"]


async def _create() -> None:
    engine = engine_finder()
    assert engine is not None
    for statement in _INDEXES:
        await engine.run_ddl(statement)


async def _drop() -> None:
    engine = engine_finder()
    assert engine is not None
    for name in _NAMES:
        await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tickets", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
