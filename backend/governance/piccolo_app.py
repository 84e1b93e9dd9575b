import os

from piccolo.conf.apps import AppConfig

from backend.governance.tables import (
    Alert,
    DirectiveSlot,
    OutboxMessage,
    TourGroup,
    TourGroupStop,
    VenueLevel,
)
from backend.occupancy.tables import Directive, WalkIn  # occupancy's tables; their migrations stay here

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="governance",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[OutboxMessage, WalkIn, VenueLevel, Directive, DirectiveSlot, Alert, TourGroup, TourGroupStop],
    migration_dependencies=[],
    commands=[],
)
