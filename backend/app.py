"""create_app(): plugins, controllers, stores, channels, OpenAPI and the PWA, wired in one place."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio
from litestar import Litestar, Request, Response, Router, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Contact, License
from litestar.plugins.prometheus import PrometheusController
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from backend.accounts.controllers import AdminUsersController, AuthController, MeController
from backend.accounts.services import accounts
from backend.amenities.controllers import NEAREST_QUERY, AmenityController, nearest_fast
from backend.amenities.services import index as amenity_index
from backend.audit.middleware import audit_middleware
from backend.cases.changes import case_changed
from backend.cases.controllers import CaseController
from backend.cases.routing import use_merchants as route_cases_by_merchant
from backend.cases.worker import case_deadlines
from backend.events.controllers import (
    ArticleController,
    EventController,
    EventFeedController,
    MyCalendarController,
)
from backend.events.services import events as event_catalog
from backend.exhibitions.controllers import ExhibitionController, ImageServiceController
from backend.forecast.controllers import ForecastController, OfferController, PeaksController
from backend.forecast.rebooking import rebooking
from backend.forecast.services import forecasts
from backend.forecast.worker import offer_sweeper
from backend.governance.case_bridge import merchant_district, on_case_changed
from backend.governance.controllers import GovernanceController, TourGroupController
from backend.governance.services import supervision
from backend.governance.worker import gov_bridge
from backend.lib import galleries, heap, live_events
from backend.lib.auth import PUBLIC, build_jwt_auth
from backend.lib.client_config import get_client_config
from backend.lib.csrf import csrf_middleware
from backend.lib.db import ping_database, start_database, stop_database
from backend.lib.fast_reads import install_fast_reads
from backend.lib.input_guard import input_guard
from backend.lib.lean_routes import install_lean_route
from backend.lib.openapi import OpenAPIContract, render_plugins, schema_ui_routes
from backend.lib.problems import problem_details_plugin, unexpected_error_handler
from backend.lib.proxies import trusted_proxy_middleware
from backend.lib.rate_limits import abuse_limit_middleware, checks_revocation
from backend.lib.request_log import configure_logging, request_context_middleware
from backend.lib.security_headers import security_headers_hook
from backend.lib.sketch_tiles import sketch_tile
from backend.lib.stores import channels_plugin, close_redis, ping_redis, store_registry
from backend.lib.web_shell import Shell, media_routes, pwa_routes, spa_fallback
from backend.media.controllers import GalleryController, PhotoLibraryController, UploadController, photo_variant
from backend.media.library import library
from backend.media.pictures import picture_variant
from backend.occupancy.popularity import recent_visitors
from backend.occupancy.services import occupancy_changed
from backend.opendata.controllers import CrowdFeedController, OpenDataController
from backend.passes.controllers import GateScanController, PassController, ScanController
from backend.passes.extensions import extensions as pass_extensions
from backend.payments.controllers import CheckoutController, StripeWebhookController
from backend.payments.services import payments
from backend.plans.controllers import PlanController
from backend.publishing.admin_site import piccolo_admin_site
from backend.publishing.controllers import FeaturedController, PublishingController
from backend.publishing.services import publishing
from backend.reservations.contacts import DeskController
from backend.reservations.controllers import (
    NotificationController,
    ReservationController,
    SlotController,
)
from backend.reservations.disruptions import booking_disrupted
from backend.reservations.services import paid_bookings, reservations
from backend.search.controllers import GuideController, SearchController
from backend.search.guide import guide
from backend.search.services import search
from backend.settings import Settings, get_settings
from backend.tickets.controllers import (
    MyShowController,
    PerformanceController,
    QuoteController,
    ShowController,
    TicketTypeController,
)
from backend.tickets.services import booking_ticketing, tickets
from backend.tours.controllers import PoiController, TourController
from backend.venues.controllers import VenueController
from backend.venues.services import catalog
from backend.venues.shell import venue_page_routes
from backend.vouchers.cards import admit as admit_card
from backend.vouchers.controllers import (
    CampaignController,
    MerchantController,
    MyCouponsController,
    RedemptionController,
    SettlementController,
)
from backend.vouchers.lottery import draw_due
from backend.vouchers.merchants import known_merchants
from backend.vouchers.wallet import pass_entitlements
from integrations.llm.chat import OpenAICompatibleChat

log = logging.getLogger("changxiang")

API_PREFIX = "/api/v1"
CHANNELS = ["scans", "occupancy", "notifications", "cases"]
# the liveness probe: polled constantly, says nothing about users, so neither counted in the metrics nor
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
        revocation_checked_later=checks_revocation,  # limited routes: with their counters, one round trip
    )

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            get_client_config,
            AuthController,
            MeController,
            AdminUsersController,
            VenueController,
            ForecastController,
            PeaksController,
            OfferController,
            SlotController,
            ReservationController,
            DeskController,
            NotificationController,
            PassController,
            GateScanController,
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
            CrowdFeedController,
            EventController,
            EventFeedController,
            MyCalendarController,
            ArticleController,
            PublishingController,
            FeaturedController,
            SearchController,
            GuideController,
            PlanController,
            CaseController,
            UploadController,
            PhotoLibraryController,
            GalleryController,
            MerchantController,
            CampaignController,
            MyCouponsController,
            RedemptionController,
            SettlementController,
            TicketTypeController,
            QuoteController,
            PerformanceController,
            ShowController,
            MyShowController,
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
                    await draw_due()  # voucher lotteries whose applications have closed
                except Exception:  # noqa: BLE001 - keep going; the next pass retries
                    log.exception("publishing sweep failed")

        async with anyio.create_task_group() as tg:
            tg.start_soon(loop)
            yield
            tg.cancel_scope.cancel()

    def wire_rooms() -> None:
        """Bind the process-wide rooms to this app's stores and channels. Done when the app starts, not
        when it is built: an app built only to read its routes or schema must not rebind them."""
        catalog.configure(stores.get("cache"), settings.venue_cache_ttl_s)
        catalog.configure_live(supervision.overlay)
        catalog.configure_popularity(recent_visitors)  # sort=popular: the gates' counts of recent weeks
        # the supervision bridge hears of every movement (occupancy's signal)
        occupancy_changed.connect(supervision.on_occupancy_changed)
        # disrupted bookings get rebooking offers (reservations' signal; the forecast room's receiver)
        booking_disrupted.connect(rebooking.on_booking_disrupted)
        # ... and of every case opened, escalated or resolved (the platform's outbox, the district's users)
        case_changed.connect(on_case_changed)
        route_cases_by_merchant(merchant_district)  # a case about a merchant goes to the merchant's district
        # reservations pay through the payment port; payments tell reservations what became of the money
        reservations.use_payments(payments)
        payments.use_bookings(paid_bookings)
        # bookings price visitors by the tickets room's rules and book its performances; events show them
        reservations.use_ticketing(booking_ticketing)
        event_catalog.use_ticketing(tickets.event_ticketing)
        live_events.bind(channels.publish)
        amenity_index.configure(stores.get("cache"))
        event_catalog.configure(stores.get("cache"), settings.venue_cache_ttl_s)
        forecasts.configure(stores.get("cache"))
        publishing.second_reviewer = settings.publish_second_reviewer
        # the photo library's galleries: set for items that exist, shown on the public pages (lib/galleries)
        library.configure(publishing.item_exists)
        galleries.configure(library.public_gallery)
        # search's index is rebuilt when content changes: its own version key, bumped on every publishing move
        search.configure(stores.get("cache"))
        if search.changed not in publishing.listeners:
            publishing.listeners.append(search.changed)
        guide.use_model(
            OpenAICompatibleChat(settings.guide_llm_url, settings.guide_llm_model, settings.guide_llm_key)
            if settings.guide_llm_url
            else None
        )
        accounts.use_merchants(known_merchants)  # merchant accounts are bound to the vouchers room's register
        # coupons and cards are entitlements on the one pass; cards admit at the gate (passes/extensions.py)
        pass_extensions.entitlements[:] = [pass_entitlements]
        pass_extensions.gate = admit_card

    async def on_startup(app: Litestar) -> None:
        wire_rooms()
        await start_database()
        if settings.admin_email and settings.admin_password:
            await accounts.ensure_admin(settings.admin_email, settings.admin_password)
        heap.settle(collect=True)  # what start-up loaded stays: out of the collector's scans (lib/heap.py)
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

    channels = channels_plugin(settings, CHANNELS)
    shell = Shell(settings.pwa_dist / "index.html")
    app = Litestar(
        route_handlers=[
            api,
            healthz,
            readyz,
            MetricsController,
            piccolo_admin_site,
            picture_variant,
            ImageServiceController,  # IIIF Image API: /iiif/{identifier}/…
            photo_variant,
            sketch_tile,
            *media_routes(settings.content_dir),
            *schema_ui_routes(settings.pwa_dist),
            *pwa_routes(settings.pwa_dist),
            *venue_page_routes(shell),
        ],
        plugins=[problem_details_plugin, channels, OpenAPIContract()],
        on_app_init=[jwt_auth.on_app_init],
        on_startup=[on_startup],
        lifespan=[sweeper, publisher, offer_sweeper, gov_bridge, case_deadlines],
        on_shutdown=[on_shutdown],
        middleware=[
            trusted_proxy_middleware,
            request_context_middleware,
            csrf_middleware,
            abuse_limit_middleware,
            input_guard(settings.max_body_bytes),
            audit_middleware,
            live_events.stream_guard_middleware,
        ],
        before_send=[security_headers_hook(settings)],
        exception_handlers={NotFoundException: spa_fallback(shell), Exception: unexpected_error_handler},
        stores=stores,
        state=State({"settings": settings, "jwt_auth": jwt_auth}),
        request_max_body_size=settings.max_body_bytes,
        # phones on slow networks: the PWA's scripts and styles, and API lists, go gzipped when asked
        compression_config=CompressionConfig(
            backend="gzip",
            gzip_compress_level=6,
            exclude_opt_key="probe",
            # JPEG tiles; and a gate scan's answer, a few hundred bytes, under gzip's 500-byte minimum: never
            # compressed, so not passed through the compressor's wrapper either (issue 22)
            exclude=["^/iiif/", f"^{API_PREFIX}/scans$"],
        ),
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
            render_plugins=render_plugins(),
        ),
        logging_config=None,
        debug=False,
    )
    # the finder's hot read, answered before routing for a plain query (lib/fast_reads.py; issue 22)
    if settings.fast_reads:
        install_fast_reads(app, {f"{API_PREFIX}/amenities": (nearest_fast, NEAREST_QUERY)})
    # the gate scan's handler, called without Litestar's kwargs and response machinery (lib/lean_routes.py)
    if settings.lean_routes:
        install_lean_route(app, f"{API_PREFIX}/scans", "POST", {"channels": channels})
    return app
