import os

from piccolo.conf.apps import AppConfig

from backend.payments.tables import Payment, Refund, WebhookEvent

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="payments",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Payment, Refund, WebhookEvent],
    migration_dependencies=["backend.reservations.piccolo_app"],
    commands=[],
)
