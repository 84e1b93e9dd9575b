import os

from piccolo.conf.apps import AppConfig

from backend.events.tables import Article, CalendarToken, Event

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Event, Article, CalendarToken],
    migration_dependencies=[],
    commands=[],
)
