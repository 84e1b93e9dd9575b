import os

from piccolo.conf.apps import AppConfig

from backend.tickets.tables import Hall, Performance, Seat, SeatClaim, Show, TicketRule

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="tickets",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[TicketRule, Hall, Seat, Performance, SeatClaim, Show],
    migration_dependencies=[],
    commands=[],
)
