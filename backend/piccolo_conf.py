"""Piccolo's configuration: the engine comes from DATABASE_URL (SQLite file by default)."""

from piccolo.conf.apps import AppRegistry

from backend.lib.db import engine_for_url
from backend.settings import get_settings

DB = engine_for_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "backend.accounts.piccolo_app",
        "backend.venues.piccolo_app",
        "backend.reservations.piccolo_app",
        "backend.passes.piccolo_app",
        "backend.payments.piccolo_app",
        "backend.amenities.piccolo_app",
        "backend.tours.piccolo_app",
        "backend.exhibitions.piccolo_app",
        "backend.governance.piccolo_app",
        "backend.audit.piccolo_app",
        "backend.events.piccolo_app",
        "backend.publishing.piccolo_app",
        "backend.forecast.piccolo_app",
        "backend.vouchers.piccolo_app",
        "backend.media.piccolo_app",
        "backend.cases.piccolo_app",
        "backend.plans.piccolo_app",
        "backend.tickets.piccolo_app",
        "piccolo.apps.user.piccolo_app",
        "piccolo_api.session_auth.piccolo_app",
    ]
)
