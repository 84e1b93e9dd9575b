import os

from piccolo.conf.apps import AppConfig

from backend.tours.tables import Poi, Stop, Tour

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="tours",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Poi, Tour, Stop],
    migration_dependencies=[],
    commands=[],
)
