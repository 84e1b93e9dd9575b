from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import UUID
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-02T15:18:36:607851"
VERSION = "1.38.0"
DESCRIPTION = "Refunds owed: pending rows, retried by the sweeper until the provider confirms (issue 15, finding 10)"


# One refund per payment and reason: an owed refund is written in the transaction that ends the booking,
# and a second writer for the same reason (a replica, a retried request) meets this index (ON CONFLICT).
_UNIQUE_REASON = "CREATE UNIQUE INDEX refunds_payment_reason ON refunds (payment, reason)"

# SQLite has no ALTER COLUMN: the table is rebuilt with provider_refund_id nullable, rows and indexes kept.
_SQLITE_REBUILD = [
    'CREATE TABLE "refunds_new" ("id" INTEGER PRIMARY KEY NOT NULL, '
    '"payment" INTEGER REFERENCES "payments" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null, '
    '"provider_refund_id" VARCHAR(120) UNIQUE DEFAULT null, '
    '"amount_fen" INTEGER NOT NULL DEFAULT 0, "reason" VARCHAR(40) NOT NULL DEFAULT \'\', '
    '"status" VARCHAR(20) NOT NULL DEFAULT \'\', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"attempts" INTEGER NOT NULL DEFAULT 0, "last_error" VARCHAR(300) DEFAULT null, '
    '"leased_until" TIMESTAMPTZ DEFAULT null, "next_attempt_at" TIMESTAMPTZ DEFAULT null, '
    '"public_id" UUID DEFAULT null)',
    'INSERT INTO "refunds_new" ("id", "payment", "provider_refund_id", "amount_fen", "reason", "status", '
    '"created_at", "attempts", "last_error", "leased_until", "next_attempt_at", "public_id") '
    'SELECT "id", "payment", "provider_refund_id", "amount_fen", "reason", "status", "created_at", "attempts", '
    '"last_error", "leased_until", "next_attempt_at", "public_id" FROM "refunds"',
    'DROP TABLE "refunds"',
    'ALTER TABLE "refunds_new" RENAME TO "refunds"',
    'CREATE INDEX refunds_payment ON "refunds" ("payment")',
    'CREATE INDEX refunds_next_attempt_at ON "refunds" ("next_attempt_at")',
    'CREATE INDEX refunds_public_id ON "refunds" ("public_id")',
]


async def _drop_indexes() -> None:
    """Backwards, first: SQLite drops no column that an index names."""
    engine = engine_finder()
    assert engine is not None
    for name in ("refunds_payment_reason", "refunds_next_attempt_at", "refunds_public_id"):
        await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")


class _RefundsOwed(MigrationManager):
    """Piccolo alters a column with ALTER COLUMN, which SQLite lacks: there the table is rebuilt instead
    (the snapshot Piccolo reads is the same, so `piccolo migrations new --auto` finds no difference).
    Both engines then get the unique (payment, reason) index. Backwards, SQLite keeps the column
    nullable (rows owed then have no provider id to put back)."""

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        engine = engine_finder()
        assert engine is not None
        if backwards:
            if engine.engine_type != "sqlite":
                await super()._run_alter_columns(backwards=True)
            return
        if engine.engine_type == "sqlite":
            for statement in _SQLITE_REBUILD:
                await engine.run_ddl(statement)
        else:
            await super()._run_alter_columns()
        await engine.run_ddl(_UNIQUE_REASON)


async def forwards():
    manager = _RefundsOwed(
        migration_id=ID, app_name="payments", description=DESCRIPTION
    )
    manager.add_raw_backwards(_drop_indexes)

    manager.add_column(
        table_class_name="Refund",
        tablename="refunds",
        column_name="attempts",
        db_column_name="attempts",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
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
        table_class_name="Refund",
        tablename="refunds",
        column_name="last_error",
        db_column_name="last_error",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 300,
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
        table_class_name="Refund",
        tablename="refunds",
        column_name="leased_until",
        db_column_name="leased_until",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
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
        table_class_name="Refund",
        tablename="refunds",
        column_name="next_attempt_at",
        db_column_name="next_attempt_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Refund",
        tablename="refunds",
        column_name="public_id",
        db_column_name="public_id",
        column_class_name="UUID",
        column_class=UUID,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="Refund",
        tablename="refunds",
        column_name="provider_refund_id",
        db_column_name="provider_refund_id",
        params={"default": None, "null": True},
        old_params={"default": "", "null": False},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
