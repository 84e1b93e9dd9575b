import os

from piccolo.conf.apps import AppConfig

from backend.cases.tables import Case, CaseEvent, CaseMessage

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Case, CaseMessage, CaseEvent],
    migration_dependencies=[],
    commands=[],
)
