import os

from piccolo.conf.apps import AppConfig

from backend.reservations.tables import IdempotencyRecord, Notification, Reservation, Slot, Visitor, VisitorClaim

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="reservations",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Slot, Reservation, Visitor, VisitorClaim, IdempotencyRecord, Notification],
    migration_dependencies=[],
    commands=[],
)
