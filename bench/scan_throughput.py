"""POST /scans with distinct valid codes against /healthz in the same run (issue 4: ≥ 0.25), and the
offline check of one device code in Python against one bare ECDSA verify."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.harness import bench_env, cli, holders_with_passes, server, wrk, wrk_script

HOLDERS = 3000
TARGET = 0.25
VENUE = "changzhou-museum"


async def _prepare(env: dict[str, str]) -> tuple[str, list[str]]:
    """A running slot, HOLDERS confirmed bookings with passes, one staff token; then fresh codes."""
    os.environ.update(env)
    from litestar.security.jwt import Token

    from backend.accounts.tables import User
    from backend.lib.auth import hash_password
    from backend.lib.db import start_database, stop_database
    from backend.passes.codes import make_server_code
    from backend.passes.keys import keyring
    from backend.settings import get_settings

    await start_database()
    try:
        now = datetime.now(UTC)
        tag = uuid.uuid4().hex[:8]
        password = hash_password("bench-password")
        staff = await User.insert(
            User(
                email=f"gate-{tag}@changxiang.test",
                password_hash=password,
                display_name="Gate",
                roles=["staff"],
                venue_slugs=[VENUE],
            )
        ).returning(User.id)
        pass_ids = await holders_with_passes(tag, VENUE, HOLDERS, password)
        key = await keyring.current()
        issued = int(time.time())
        codes = [make_server_code(key, p, issued) for p in pass_ids]
        exp = now + timedelta(hours=1)
        token = Token(sub=str(staff[0]["id"]), exp=exp, jti=uuid.uuid4().hex).encode(get_settings().secret_key, "HS256")
        return token, codes
    finally:
        await stop_database()


def _scan_rate(url: str, token: str, codes: list[str], seconds: int) -> object:
    bodies = ",\n".join("[[" + json.dumps({"code": c, "venue_slug": VENUE}) + "]]" for c in codes)
    script = f"""
local bodies = {{ {bodies} }}
local i = 0
request = function()
  i = i + 1
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer {token}"
  return wrk.format("POST", "/api/v1/scans", headers, bodies[((i - 1) % #bodies) + 1])
end
"""
    return wrk_script(url, script, seconds, connections=32)


def _offline_verify_us() -> tuple[float, float]:
    """µs to check one device code (two ECDSA verifies and parsing) vs one bare ECDSA verify."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from backend.lib.signing_keys import KeyPair, SigningKeyring, sign_raw
    from backend.passes.codes import device_message, make_certificate, make_device_code, verify_code

    server_key = ec.generate_private_key(ec.SECP256R1())
    pair = KeyPair(1, server_key, server_key.public_key())
    ring = SigningKeyring()
    ring._by_kid[1] = pair  # a keyring that needs no database, for timing only
    device = ec.generate_private_key(ec.SECP256R1())
    from backend.lib.signing_keys import uncompressed

    cert = make_certificate(pair, "0011223344556677", 7, int(time.time()) + 3600, uncompressed(device.public_key()))
    shown = int(time.time())
    code = make_device_code(cert, shown, sign_raw(device, device_message(cert, shown)))
    now = datetime.now(UTC)
    n = 300
    loop = asyncio.new_event_loop()
    started = time.perf_counter()
    for _ in range(n):
        loop.run_until_complete(verify_code(code, ring, now))
    per_code = (time.perf_counter() - started) / n * 1e6
    loop.close()
    signature = server_key.sign(b"x", ec.ECDSA(hashes.SHA256()))
    started = time.perf_counter()
    for _ in range(n):
        server_key.public_key().verify(signature, b"x", ec.ECDSA(hashes.SHA256()))
    per_verify = (time.perf_counter() - started) / n * 1e6
    return per_code, per_verify


def run() -> list[tuple]:
    env = bench_env({"CHANGXIANG_AUTH_RATE_LIMIT": "100000"})
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    cli(env, "migrate")
    cli(env, "load-content")
    token, codes = asyncio.run(_prepare(env))
    with server(env) as url:
        wrk(url + "/healthz", seconds=1)
        base = wrk(url + "/healthz", seconds=5)
        scans = _scan_rate(url, token, codes, 5)
    per_code, per_verify = _offline_verify_us()
    ratio = scans.requests_per_s / base.requests_per_s  # type: ignore[attr-defined]
    return [
        ("GET /healthz (baseline, 1 worker)", base.requests_per_s, 1.0, f"p50 {base.p50_ms:.1f} ms{base.cpu_note}"),
        (
            "POST /api/v1/scans, distinct valid codes ÷ healthz",
            scans.requests_per_s,
            ratio,  # type: ignore
            f"p50 {scans.p50_ms:.1f} ms, p99 {scans.p99_ms:.1f} ms, non-2xx {scans.non_2xx}{scans.cpu_note}",
            TARGET,
        ),  # type: ignore
        (
            "offline check of one device code (µs) ÷ one ECDSA verify",
            per_code,
            per_code / per_verify,
            f"{per_code:.0f} µs vs {per_verify:.0f} µs (Python, cryptography)",
        ),
    ]
