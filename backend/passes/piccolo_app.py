import os

from piccolo.conf.apps import AppConfig

from backend.passes.tables import DeviceCertificate, GateCount, Pass, ScanRecord, SigningKey

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="passes",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Pass, SigningKey, DeviceCertificate, ScanRecord, GateCount],
    migration_dependencies=[],
    commands=[],
)
