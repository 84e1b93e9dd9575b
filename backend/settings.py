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
    # abuse limits (docs/security.md): requests a minute per address and per account, login lock-out
    booking_limit_per_account: int = 20
    booking_limit_per_address: int = 300
    scan_limit_per_account: int = 1200
    scan_limit_per_address: int = 6000
    login_lockout_failures: int = 10
    login_lockout_s: int = 900
    max_body_bytes: int = 1024 * 1024
    hsts: bool = False  # also sent whenever the request came over TLS (X-Forwarded-Proto: https)
    publish_second_reviewer: bool = False  # in_review → scheduled|published needs another marketer

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
        auth_rate_limit_per_minute=int(env.get("CHANGXIANG_AUTH_RATE_LIMIT") or 10),
        token_ttl_s=int(env.get("CHANGXIANG_TOKEN_TTL_S") or 7 * 24 * 3600),
        cookie_secure=_bool(env.get("CHANGXIANG_COOKIE_SECURE"), False),
        pwa_dist=Path(env.get("CHANGXIANG_PWA_DIST") or ROOT / "pwa" / "dist"),
        content_dir=Path(env.get("CHANGXIANG_CONTENT_DIR") or ROOT / "content"),
        log_level=env.get("LOG_LEVEL") or "INFO",
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
        booking_limit_per_account=int(env.get("CHANGXIANG_BOOKING_LIMIT_PER_ACCOUNT") or 20),
        booking_limit_per_address=int(env.get("CHANGXIANG_BOOKING_LIMIT_PER_ADDRESS") or 300),
        scan_limit_per_account=int(env.get("CHANGXIANG_SCAN_LIMIT_PER_ACCOUNT") or 1200),
        scan_limit_per_address=int(env.get("CHANGXIANG_SCAN_LIMIT_PER_ADDRESS") or 6000),
        login_lockout_failures=int(env.get("CHANGXIANG_LOGIN_LOCKOUT_FAILURES") or 10),
        login_lockout_s=int(env.get("CHANGXIANG_LOGIN_LOCKOUT_S") or 900),
        max_body_bytes=int(env.get("CHANGXIANG_MAX_BODY_BYTES") or 1024 * 1024),
        hsts=_bool(env.get("CHANGXIANG_HSTS"), False),
        publish_second_reviewer=_bool(env.get("CHANGXIANG_PUBLISH_SECOND_REVIEWER"), False),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
