import os

from piccolo.conf.apps import AppConfig

from backend.occupancy.tables import GateCount  # occupancy's table; its migrations stay here
from backend.passes.tables import DeviceCertificate, GateDevice, Pass, ScanRecord, SigningKey

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="passes",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Pass, SigningKey, DeviceCertificate, GateDevice, ScanRecord, GateCount],
    migration_dependencies=[],
    commands=[],
)
