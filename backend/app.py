"""create_app(): plugins, controllers, stores, channels, OpenAPI and the PWA, wired in one place."""

from __future__ import annotations

import logging
import mimetypes
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from litestar import Litestar, Request, Response, Router, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Contact, License
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from backend.accounts.controllers import AdminUsersController, AuthController, MeController
from backend.accounts.services import accounts
from backend.amenities.controllers import AmenityController
from backend.amenities.services import index as amenity_index
from backend.audit.middleware import audit_middleware
from backend.events.controllers import (
    ArticleController,
    EventController,
    EventFeedController,
    MyCalendarController,
)
from backend.events.services import events as event_catalog
from backend.exhibitions.controllers import ExhibitionController
from backend.governance.controllers import GovernanceController, TourGroupController
from backend.governance.services import occupancy
from backend.governance.worker import gov_bridge
from backend.lib import live_events
from backend.lib.auth import PUBLIC, build_jwt_auth
from backend.lib.db import ping_database, start_database, stop_database
from backend.lib.problems import _http_to_problem, problem_details_plugin, unexpected_error_handler
from backend.lib.rate_limits import abuse_limit_middleware
from backend.lib.request_log import configure_logging, request_context_middleware
from backend.lib.security_headers import security_headers_hook
from backend.lib.stores import channels_plugin, close_redis, ping_redis, store_registry
from backend.opendata.controllers import OpenDataController
from backend.passes.controllers import PassController, ScanController
from backend.payments.controllers import CheckoutController, StripeWebhookController
from backend.publishing.admin_site import piccolo_admin_site
from backend.publishing.controllers import PublishingController
from backend.publishing.services import publishing
from backend.reservations.controllers import (
    NotificationController,
    ReservationController,
    SlotController,
)
from backend.reservations.services import reservations
from backend.settings import Settings, get_settings
from backend.tours.controllers import PoiController, TourController
from backend.venues.controllers import VenueController
from backend.venues.services import catalog

log = logging.getLogger("changxiang")

API_PREFIX = "/api/v1"
NON_APP_PREFIXES = ("/api/", "/schema", "/healthz", "/readyz", "/metrics", "/assets/", "/media/")
CHANNELS = ["scans", "occupancy", "notifications"]
# the liveness probe: polled constantly, says nothing about users, so neither timed by Prometheus nor
# passed through compression (its body is tiny): it stays as cheap as a bare app's (bench `healthz`)
PROBE = {"probe": True}


@get("/healthz", opt={**PUBLIC, **PROBE}, tags=["ops"], include_in_schema=True, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """200 while the process lives."""
    return {"status": "ok"}


@get("/readyz", opt=PUBLIC, tags=["ops"])
async def readyz(request: Request) -> Response[dict[str, object]]:
    """200 only when the database (and Redis, where configured) answer."""
    settings: Settings = request.app.state.settings
    checks = {"database": await ping_database(), "redis": await ping_redis(settings)}
    ok = all(checks.values())
    return Response(
        {"status": "ok" if ok else "unavailable", "checks": checks},
        status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
    )


class MetricsController(PrometheusController):
    opt = PUBLIC
    include_in_schema = False


def _spa_fallback(index: Path):
    """Client-side routes (`/venues/x`) get the app shell; API and asset misses stay problem+json."""

    def handler(request: Request, exc: NotFoundException) -> Response:
        path = request.url.path
        last = path.rsplit("/", 1)[-1]
        if (
            request.method in ("GET", "HEAD")
            and index.is_file()
            and not path.startswith(NON_APP_PREFIXES)
            and "." not in last
        ):
            return File(
                index, content_disposition_type="inline", media_type="text/html", headers={"Cache-Control": "no-cache"}
            )
        return _http_to_problem(exc).to_response(request)

    return handler


mimetypes.add_type("audio/ogg", ".opus")  # Ogg Opus tour narration (content/make_audio.py)


def _media_cors(response: Response) -> Response:
    """Tour audio and exhibition images may be loaded by IIIF viewers on other sites."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _media_routes(content_dir: Path) -> list:
    """content/media (tour audio, exhibition images) as static files at /media."""
    media = content_dir / "media"
    if not media.is_dir():
        return []
    return [
        create_static_files_router(
            path="/media",
            directories=[media],
            opt=PUBLIC,
            include_in_schema=False,
            name="media",
            after_request=_media_cors,
            cache_control=CacheControlHeader(public=True, max_age=86_400),
        )
    ]


def _pwa_routes(dist: Path) -> list:
    if not (dist / "index.html").is_file():
        log.warning("PWA build missing at %s: run `make pwa`", dist)
        return []
    routes = []
    if (dist / "assets").is_dir():
        routes.append(
            create_static_files_router(
                path="/assets",
                directories=[dist / "assets"],
                opt=PUBLIC,
                include_in_schema=False,
                cache_control=CacheControlHeader(public=True, max_age=31_536_000, immutable=True),
                name="pwa_assets",
            )
        )
    routes.append(
        create_static_files_router(
            path="/",
            directories=[dist],
            html_mode=True,
            opt=PUBLIC,
            include_in_schema=False,
            name="pwa",
            cache_control=CacheControlHeader(no_cache=True),
        )
    )
    return routes


async def _retrieve_user(token, _connection):
    try:
        user_id = int(token.sub)
    except (TypeError, ValueError):
        return None
    return await accounts.load(user_id)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    stores = store_registry(settings)
    jwt_auth = build_jwt_auth(
        secret=settings.secret_key,
        ttl_s=settings.token_ttl_s,
        secure_cookie=settings.cookie_secure,
        retrieve_user=_retrieve_user,
        revoked_store=lambda: stores.get("auth"),
    )
    prometheus = PrometheusConfig(app_name="changxiang", group_path=True, prefix="changxiang", exclude_opt_key="probe")

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            AuthController,
            MeController,
            AdminUsersController,
            VenueController,
            SlotController,
            ReservationController,
            NotificationController,
            PassController,
            ScanController,
            CheckoutController,
            StripeWebhookController,
            AmenityController,
            TourController,
            PoiController,
            ExhibitionController,
            GovernanceController,
            TourGroupController,
            OpenDataController,
            EventController,
            EventFeedController,
            MyCalendarController,
            ArticleController,
            PublishingController,
        ],
    )

    @asynccontextmanager
    async def sweeper(app: Litestar):
        """Every replica sweeps: expired holds free their seats, free seats go to the waitlist. The
        sweep's writes are conditional, so replicas sweeping at once do each change once."""

        async def loop() -> None:
            while True:
                await anyio.sleep(settings.sweep_interval_s)
                try:
                    await reservations.sweep()
                except Exception:  # noqa: BLE001 - keep sweeping; the next pass retries
                    log.exception("sweep failed")

        async with anyio.create_task_group() as tg:
            tg.start_soon(loop)
            yield
            tg.cancel_scope.cancel()

    @asynccontextmanager
    async def publisher(app: Litestar):
        """Every replica publishes scheduled items once due (conditional UPDATEs: each moves once)."""

        async def loop() -> None:
            while True:
                await anyio.sleep(settings.sweep_interval_s)
                try:
                    await publishing.publish_due()
                except Exception:  # noqa: BLE001 - keep going; the next pass retries
                    log.exception("publishing sweep failed")

        async with anyio.create_task_group() as tg:
            tg.start_soon(loop)
            yield
            tg.cancel_scope.cancel()

    async def on_startup(app: Litestar) -> None:
        await start_database()
        if settings.admin_email and settings.admin_password:
            await accounts.ensure_admin(settings.admin_email, settings.admin_password)
        log.info(
            "changxiang started",
            extra={
                "database": "postgres" if settings.is_postgres else "sqlite",
                "redis": settings.redis_url is not None,
            },
        )

    async def on_shutdown(app: Litestar) -> None:
        await stop_database()
        await close_redis()

    catalog.configure(stores.get("cache"), settings.venue_cache_ttl_s)
    catalog.configure_live(occupancy.overlay)
    channels = channels_plugin(settings, CHANNELS)
    live_events.bind(channels.publish)
    amenity_index.configure(stores.get("cache"))
    event_catalog.configure(stores.get("cache"), settings.venue_cache_ttl_s)
    publishing.second_reviewer = settings.publish_second_reviewer
    index = settings.pwa_dist / "index.html"
    return Litestar(
        route_handlers=[
            api,
            healthz,
            readyz,
            MetricsController,
            piccolo_admin_site,
            *_media_routes(settings.content_dir),
            *_pwa_routes(settings.pwa_dist),
        ],
        plugins=[problem_details_plugin, channels],
        on_app_init=[jwt_auth.on_app_init],
        on_startup=[on_startup],
        lifespan=[sweeper, publisher, gov_bridge],
        on_shutdown=[on_shutdown],
        middleware=[request_context_middleware, prometheus.middleware, abuse_limit_middleware, audit_middleware],
        before_send=[security_headers_hook(settings)],
        exception_handlers={NotFoundException: _spa_fallback(index), Exception: unexpected_error_handler},
        stores=stores,
        state=State({"settings": settings, "jwt_auth": jwt_auth}),
        request_max_body_size=settings.max_body_bytes,
        # phones on slow networks: the PWA's scripts and styles, and API lists, go gzipped when asked
        compression_config=CompressionConfig(backend="gzip", gzip_compress_level=6, exclude_opt_key="probe"),
        openapi_config=OpenAPIConfig(
            title="Changxiang 常享 API",
            version="1.0.0",
            description=(
                "The HTTP contract of Changxiang (see shared/API.md). "
                "Errors are RFC 9457 problem+json with a stable `code`."
            ),
            contact=Contact(name="Changxiang developers"),
            license=License(name="Apache-2.0", identifier="Apache-2.0"),
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        logging_config=None,
        debug=False,
    )
