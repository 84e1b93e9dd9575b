import os

from piccolo.conf.apps import AppConfig

from backend.amenities.tables import Amenity, Evse, OperatorKey

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="amenities",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Amenity, Evse, OperatorKey],
    migration_dependencies=[],
    commands=[],
)
