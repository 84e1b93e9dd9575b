import os

from piccolo.conf.apps import AppConfig

from backend.forecast.tables import HourlyCount, RebookingOffer

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="forecast",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[HourlyCount, RebookingOffer],
    migration_dependencies=[],
    commands=[],
)
