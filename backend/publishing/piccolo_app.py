import os

from piccolo.conf.apps import AppConfig

from backend.publishing.tables import FeaturedList, Transition

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="publishing",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Transition, FeaturedList],
    migration_dependencies=[],
    commands=[],
)
