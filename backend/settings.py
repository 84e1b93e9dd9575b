"""One Settings struct, read from the environment once (API.md, "Running it")."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str
    redis_url: str | None
    host: str
    port: int
    var_dir: Path
    secret_key: str
    admin_email: str | None
    admin_password: str | None
    auth_rate_limit_per_minute: int
    token_ttl_s: int
    cookie_secure: bool
    pwa_dist: Path
    content_dir: Path
    log_level: str
    gc_freeze: bool = True  # lib/heap.py: what is loaded at start is kept out of the collector's scans
    fast_reads: bool = True  # lib/fast_reads.py: the finder's plain queries answered before routing
    lean_routes: bool = True  # lib/lean_routes.py: the gate scan's handler called without the kwargs machinery
    venue_cache_ttl_s: float
    max_party_size: int
    max_active_bookings: int
    payment_hold_s: int
    sweep_interval_s: float
    status_max_age_s: int
    stripe_secret_key: str | None
    stripe_webhook_secret: str | None
    stripe_api_base: str | None
    gov_platform_url: str | None
    gov_platform_secret: str | None
    gov_retry_base_s: float = 5.0
    gov_retry_max_s: float = 300.0
    gov_outbox_interval_s: float = 1.0
    gov_lease_s: float = 30.0
    gov_occupancy_push_s: float = 60.0
    gov_daily_report_hour: int = 22
    gov_occupancy_cache_s: float = 1.0
    # tour groups (docs/payments.md): seats one agency may hold or book per visit day, and its share of a slot
    agency_seats_per_day: int = 400
    agency_slot_share: float = 0.3
    # abuse limits (docs/security.md): requests a minute per address and per account, login lock-out
    booking_limit_per_account: int = 20
    booking_limit_per_address: int = 300
    scan_limit_per_account: int = 1200
    scan_limit_per_address: int = 6000
    login_lockout_failures: int = 10
    login_lockout_s: int = 900
    # who the client is (lib/proxies.py): addresses/networks of our reverse proxies, whose
    # X-Forwarded-For is believed; none by default (the direct peer is the client)
    trusted_proxies: tuple[str, ...] = ()
    # the app's own origin (https://host), for the CSRF check of cookie-authenticated writes (lib/csrf.py);
    # unset: the request's own Host
    public_url: str | None = None
    # live event streams (SSE, lib/live_events.py): open streams per account, and how often a stream
    # checks that its token is still good (logout ends it)
    streams_per_account: int = 5
    stream_check_s: float = 5.0
    max_body_bytes: int = 1024 * 1024
    hsts: bool = False  # also sent whenever the request came over TLS (X-Forwarded-Proto: https)
    publish_second_reviewer: bool = False  # in_review → scheduled|published needs another marketer
    # pass and gate devices (docs/pass-code.md): active device certificates per pass and gate devices per
    # staff account (the newest wins, the oldest is revoked); how long after its last sync an offline
    # gate's signed scans are trusted
    device_certs_per_pass: int = 3
    gate_devices_per_staff: int = 3
    offline_trust_window_s: int = 12 * 3600
    # the guide's chat model (docs/search.md): an OpenAI-compatible API base, its key and model name; unset:
    # answers are composed from retrieval alone
    guide_llm_url: str | None = None
    guide_llm_key: str | None = None
    guide_llm_model: str = "deepseek-chat"
    # help, complaints and SOS (docs/cases.md): seconds to acknowledge (an SOS: the shorter of the two) and to
    # resolve a case before it is escalated to the district's governance users
    case_ack_s: int = 3600
    case_sos_ack_s: int = 120
    case_resolve_s: int = 86400
    # uploads (docs/cases.md): where files go, `file:///dir` or unset (CHANGXIANG_VAR_DIR/uploads)
    storage_url: str | None = None
    # phone sign-in (docs/security.md, integrations/sms): the SMS provider's HTTP API, its key and signature; a
    # code's life, the wrong codes that lock a phone and for how long, the gap between two codes to one phone,
    # the codes one phone may get a day, and code requests a minute per address
    sms_api_url: str | None = None
    sms_api_key: str | None = None
    sms_sign_name: str = "常享"
    sms_code_ttl_s: int = 300
    sms_code_failures: int = 5
    sms_lockout_s: int = 900
    sms_resend_s: int = 60
    sms_per_phone_per_day: int = 10
    sms_limit_per_address: int = 20
    # development (`make run` sets CHANGXIANG_DEV=1): with no SMS provider, sign-in codes are written to the
    # console; with no Stripe keys, the bundled Stripe stand-in runs in test mode (README)
    dev: bool = False
    # the app's basemap (docs/decisions.md "Maps"): an XYZ raster tile URL template (`{z}/{x}/{y}`, `{s}` for
    # `map_subdomains`), the datum its tiles are drawn in (`gcj02` for AMap-style Chinese providers: markers are
    # converted at the map edge), its attribution and zoom limit; unset: the sketch basemap at /tiles/
    map_tiles: str | None = None
    map_coords: str = "wgs84"
    map_attribution: str = ""
    map_subdomains: str = ""
    map_max_zoom: int = 18
    # content pictures in responsive sizes (backend/media/pictures.py); unset: CHANGXIANG_VAR_DIR/media-variants
    media_cache_dir: Path = Path("var/media-variants")
    # voucher claims need the app's claim ticket from release_at for this long (0: never), each ticket lives
    # claim_ticket_ttl_s (backend/vouchers/claim_tickets.py)
    claim_ticket_window_s: int = 900
    claim_ticket_ttl_s: int = 120

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def _generated_secret(var_dir: Path, name: str) -> str:
    """A secret for the embedded run: made once, kept in var/ (production sets it in the environment)."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    var_dir = Path(env.get("CHANGXIANG_VAR_DIR") or ROOT / "var")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'changxiang.sqlite3'}"
    return Settings(
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or None,
        host=env.get("HOST") or "127.0.0.1",
        port=int(env.get("PORT") or 8000),
        var_dir=var_dir,
        secret_key=env.get("CHANGXIANG_SECRET_KEY") or _generated_secret(var_dir, "secret.key"),
        admin_email=env.get("CHANGXIANG_ADMIN_EMAIL") or None,
        admin_password=env.get("CHANGXIANG_ADMIN_PASSWORD") or None,
        auth_rate_limit_per_minute=int(env.get("CHANGXIANG_AUTH_RATE_LIMIT") or 120),
        token_ttl_s=int(env.get("CHANGXIANG_TOKEN_TTL_S") or 7 * 24 * 3600),
        cookie_secure=_bool(env.get("CHANGXIANG_COOKIE_SECURE"), False),
        pwa_dist=Path(env.get("CHANGXIANG_PWA_DIST") or ROOT / "pwa" / "dist"),
        content_dir=Path(env.get("CHANGXIANG_CONTENT_DIR") or ROOT / "content"),
        log_level=env.get("LOG_LEVEL") or "INFO",
        gc_freeze=_bool(env.get("CHANGXIANG_GC_FREEZE"), True),
        fast_reads=_bool(env.get("CHANGXIANG_FAST_READS"), True),
        lean_routes=_bool(env.get("CHANGXIANG_LEAN_ROUTES"), True),
        venue_cache_ttl_s=float(env.get("CHANGXIANG_VENUE_CACHE_TTL_S") or 30),
        max_party_size=int(env.get("CHANGXIANG_MAX_PARTY_SIZE") or 5),
        max_active_bookings=int(env.get("CHANGXIANG_MAX_ACTIVE_BOOKINGS") or 5),
        payment_hold_s=int(env.get("CHANGXIANG_PAYMENT_HOLD_S") or 900),
        sweep_interval_s=float(env.get("CHANGXIANG_SWEEP_INTERVAL_S") or 1.0),
        status_max_age_s=int(env.get("CHANGXIANG_STATUS_MAX_AGE_S") or 900),
        stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        stripe_api_base=env.get("STRIPE_API_BASE") or None,
        gov_platform_url=env.get("GOV_PLATFORM_URL") or None,
        gov_platform_secret=env.get("GOV_PLATFORM_SECRET") or None,
        gov_retry_base_s=float(env.get("GOV_RETRY_BASE_S") or 5.0),
        gov_retry_max_s=float(env.get("GOV_RETRY_MAX_S") or 300.0),
        gov_outbox_interval_s=float(env.get("GOV_OUTBOX_INTERVAL_S") or 1.0),
        gov_lease_s=float(env.get("GOV_LEASE_S") or 30.0),
        gov_occupancy_push_s=float(env.get("GOV_OCCUPANCY_PUSH_S") or 60.0),
        gov_daily_report_hour=int(env.get("GOV_DAILY_REPORT_HOUR") or 22),
        gov_occupancy_cache_s=float(env.get("GOV_OCCUPANCY_CACHE_S") or 1.0),
        agency_seats_per_day=int(env.get("CHANGXIANG_AGENCY_SEATS_PER_DAY") or 400),
        agency_slot_share=float(env.get("CHANGXIANG_AGENCY_SLOT_SHARE") or 0.3),
        booking_limit_per_account=int(env.get("CHANGXIANG_BOOKING_LIMIT_PER_ACCOUNT") or 20),
        booking_limit_per_address=int(env.get("CHANGXIANG_BOOKING_LIMIT_PER_ADDRESS") or 300),
        scan_limit_per_account=int(env.get("CHANGXIANG_SCAN_LIMIT_PER_ACCOUNT") or 1200),
        scan_limit_per_address=int(env.get("CHANGXIANG_SCAN_LIMIT_PER_ADDRESS") or 6000),
        login_lockout_failures=int(env.get("CHANGXIANG_LOGIN_LOCKOUT_FAILURES") or 10),
        login_lockout_s=int(env.get("CHANGXIANG_LOGIN_LOCKOUT_S") or 900),
        trusted_proxies=tuple(
            item for item in (env.get("CHANGXIANG_TRUSTED_PROXIES") or "").replace(",", " ").split() if item
        ),
        public_url=(env.get("CHANGXIANG_PUBLIC_URL") or "").rstrip("/") or None,
        streams_per_account=int(env.get("CHANGXIANG_STREAMS_PER_ACCOUNT") or 5),
        stream_check_s=float(env.get("CHANGXIANG_STREAM_CHECK_S") or 5.0),
        max_body_bytes=int(env.get("CHANGXIANG_MAX_BODY_BYTES") or 1024 * 1024),
        hsts=_bool(env.get("CHANGXIANG_HSTS"), False),
        publish_second_reviewer=_bool(env.get("CHANGXIANG_PUBLISH_SECOND_REVIEWER"), False),
        device_certs_per_pass=int(env.get("CHANGXIANG_DEVICE_CERTS_PER_PASS") or 3),
        gate_devices_per_staff=int(env.get("CHANGXIANG_GATE_DEVICES_PER_STAFF") or 3),
        offline_trust_window_s=int(env.get("CHANGXIANG_OFFLINE_TRUST_WINDOW_S") or 12 * 3600),
        guide_llm_url=env.get("GUIDE_LLM_URL") or None,
        guide_llm_key=env.get("GUIDE_LLM_KEY") or None,
        guide_llm_model=env.get("GUIDE_LLM_MODEL") or "deepseek-chat",
        case_ack_s=int(env.get("CHANGXIANG_CASE_ACK_S") or 3600),
        case_sos_ack_s=int(env.get("CHANGXIANG_CASE_SOS_ACK_S") or 120),
        case_resolve_s=int(env.get("CHANGXIANG_CASE_RESOLVE_S") or 86400),
        storage_url=env.get("STORAGE_URL") or None,
        sms_api_url=env.get("SMS_API_URL") or None,
        sms_api_key=env.get("SMS_API_KEY") or None,
        sms_sign_name=env.get("SMS_SIGN_NAME") or "常享",
        sms_code_ttl_s=int(env.get("CHANGXIANG_SMS_CODE_TTL_S") or 300),
        sms_code_failures=int(env.get("CHANGXIANG_SMS_CODE_FAILURES") or 5),
        sms_lockout_s=int(env.get("CHANGXIANG_SMS_LOCKOUT_S") or 900),
        sms_resend_s=int(env.get("CHANGXIANG_SMS_RESEND_S") or 60),
        sms_per_phone_per_day=int(env.get("CHANGXIANG_SMS_PER_PHONE_PER_DAY") or 10),
        sms_limit_per_address=int(env.get("CHANGXIANG_SMS_LIMIT_PER_ADDRESS") or 20),
        dev=_bool(env.get("CHANGXIANG_DEV"), False),
        claim_ticket_window_s=int(env.get("CHANGXIANG_CLAIM_TICKET_WINDOW_S") or 900),
        claim_ticket_ttl_s=int(env.get("CHANGXIANG_CLAIM_TICKET_TTL_S") or 120),
        map_tiles=env.get("CHANGXIANG_MAP_TILES") or None,
        map_coords="gcj02" if (env.get("CHANGXIANG_MAP_COORDS") or "").strip().lower() == "gcj02" else "wgs84",
        map_attribution=env.get("CHANGXIANG_MAP_ATTRIBUTION") or "",
        map_subdomains=env.get("CHANGXIANG_MAP_SUBDOMAINS") or "",
        map_max_zoom=int(env.get("CHANGXIANG_MAP_MAX_ZOOM") or 18),
        media_cache_dir=Path(env.get("CHANGXIANG_MEDIA_CACHE_DIR") or var_dir / "media-variants"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
