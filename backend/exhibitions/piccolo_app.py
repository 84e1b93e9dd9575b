import os

from piccolo.conf.apps import AppConfig

from backend.exhibitions.tables import Exhibition, ExhibitionItem

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="exhibitions",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Exhibition, ExhibitionItem],
    migration_dependencies=[],
    commands=[],
)
