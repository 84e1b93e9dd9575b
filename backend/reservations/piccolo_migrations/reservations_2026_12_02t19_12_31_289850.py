from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T19:12:31:289850"
VERSION = "1.38.0"
DESCRIPTION = "A booking's contact phone (issue 21): encrypted, and masked for the venue desk"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reservations", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Reservation",
        tablename="reservations",
        column_name="contact_phone_enc",
        db_column_name="contact_phone_enc",
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
        table_class_name="Reservation",
        tablename="reservations",
        column_name="contact_phone_masked",
        db_column_name="contact_phone_masked",
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

    return manager
