from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-02T18:21:42:761534"
VERSION = "1.38.0"
DESCRIPTION = "Phone sign-in (issue 21): an account's phone, encrypted, fingerprinted and masked; email optional"

# SQLite adds no UNIQUE column and alters no column: there the table is rebuilt with the phone columns and a
# nullable email, rows and indexes kept (ids too, which other rooms keep as plain integers).
_SQLITE_REBUILD = [
    'CREATE TABLE "users_new" ("id" INTEGER PRIMARY KEY NOT NULL, "email" VARCHAR(254) UNIQUE DEFAULT null, '
    "\"password_hash\" TEXT NOT NULL DEFAULT '', \"display_name\" VARCHAR(80) NOT NULL DEFAULT '', "
    "\"roles\" ARRAY NOT NULL DEFAULT '[]', \"venue_slugs\" ARRAY NOT NULL DEFAULT '[]', "
    '"is_active" BOOLEAN NOT NULL DEFAULT true, "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"merchant_ids" ARRAY NOT NULL DEFAULT \'[]\', "phone_enc" TEXT DEFAULT null, '
    '"phone_fp" VARCHAR(64) UNIQUE DEFAULT null, "phone_masked" VARCHAR(20) DEFAULT null)',
    'INSERT INTO "users_new" ("id", "email", "password_hash", "display_name", "roles", "venue_slugs", '
    '"is_active", "created_at", "merchant_ids") SELECT "id", "email", "password_hash", "display_name", "roles", '
    '"venue_slugs", "is_active", "created_at", "merchant_ids" FROM "users"',
    'DROP TABLE "users"',
    'ALTER TABLE "users_new" RENAME TO "users"',
    'CREATE INDEX users_email ON "users" ("email")',
    'CREATE INDEX users_phone_fp ON "users" ("phone_fp")',
]


class _PhoneSignIn(MigrationManager):
    """On PostgreSQL, Piccolo's own ADD COLUMN and ALTER COLUMN; on SQLite the rebuild above (the snapshot
    Piccolo reads is the same, so `piccolo migrations new --auto` finds no difference). Backwards on SQLite
    the phone columns go and email stays nullable."""

    async def _run_add_columns(self, backwards: bool = False) -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type != "sqlite":
            await super()._run_add_columns(backwards=backwards)
        elif backwards:
            await engine.run_ddl("DROP INDEX IF EXISTS users_phone_fp")
            for column in ("phone_fp", "phone_enc", "phone_masked"):
                await engine.run_ddl(f'ALTER TABLE "users" DROP COLUMN "{column}"')

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type != "sqlite":
            await super()._run_alter_columns(backwards=backwards)
        elif not backwards:
            for statement in _SQLITE_REBUILD:
                await engine.run_ddl(statement)


async def forwards():
    manager = _PhoneSignIn(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    manager.add_column(
        table_class_name="User",
        tablename="users",
        column_name="phone_enc",
        db_column_name="phone_enc",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="User",
        tablename="users",
        column_name="phone_fp",
        db_column_name="phone_fp",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": True,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="User",
        tablename="users",
        column_name="phone_masked",
        db_column_name="phone_masked",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 20,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="User",
        tablename="users",
        column_name="email",
        db_column_name="email",
        params={"default": None, "null": True},
        old_params={"default": "", "null": False},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
