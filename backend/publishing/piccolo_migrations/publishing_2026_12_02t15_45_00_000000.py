from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T15:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "publication_transitions is append-only: UPDATE and DELETE refused by the database (issue 15, finding 2)"

_MESSAGE = "publication_transitions is append-only"

_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS publication_transitions_no_update BEFORE UPDATE ON publication_transitions "
    f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS publication_transitions_no_delete BEFORE DELETE ON publication_transitions "
    f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
]
_POSTGRES = [
    "CREATE OR REPLACE FUNCTION publication_transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$",
    "DROP TRIGGER IF EXISTS publication_transitions_append_only ON publication_transitions",
    "CREATE TRIGGER publication_transitions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
    "ON publication_transitions FOR EACH STATEMENT EXECUTE FUNCTION publication_transitions_append_only()",
]


async def _append_only() -> None:
    engine = engine_finder()
    assert engine is not None
    for statement in _SQLITE if engine.engine_type == "sqlite" else _POSTGRES:
        await engine.run_ddl(statement)


async def _writable() -> None:
    engine = engine_finder()
    assert engine is not None
    if engine.engine_type == "sqlite":
        statements = [
            "DROP TRIGGER IF EXISTS publication_transitions_no_update",
            "DROP TRIGGER IF EXISTS publication_transitions_no_delete",
        ]
    else:
        statements = [
            "DROP TRIGGER IF EXISTS publication_transitions_append_only ON publication_transitions",
            "DROP FUNCTION IF EXISTS publication_transitions_append_only()",
        ]
    for statement in statements:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="publishing", description=DESCRIPTION)
    manager.add_raw(_append_only)
    manager.add_raw_backwards(_writable)
    return manager
