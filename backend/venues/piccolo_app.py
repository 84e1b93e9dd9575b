import os

from piccolo.conf.apps import AppConfig

from backend.venues.tables import Venue

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="venues",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Venue],
    migration_dependencies=[],
    commands=[],
)
