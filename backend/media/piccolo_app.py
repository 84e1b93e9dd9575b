import os

from piccolo.conf.apps import AppConfig

from backend.media.tables import GalleryEntry, Photo, Upload

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="media",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Upload, Photo, GalleryEntry],
    migration_dependencies=[],
    commands=[],
)
