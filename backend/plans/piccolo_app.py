import os

from piccolo.conf.apps import AppConfig

from backend.plans.tables import Plan

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="plans",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Plan],
    migration_dependencies=[],
    commands=[],
)
