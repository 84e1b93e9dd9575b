import os

from piccolo.conf.apps import AppConfig

from backend.accounts.tables import Identity, User

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[User, Identity],
    migration_dependencies=[],
    commands=[],
)
