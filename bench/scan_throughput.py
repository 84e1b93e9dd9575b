"""POST /scans with distinct valid codes against /healthz and against its floor in the same run (issue 22:
≥ 0.15 of /healthz; the floor is a bare Litestar route decoding the same body into the same struct and
answering a response of the same size, plus one ECDSA verify and one database round trip of the redeem
statement, each timed alone), and the offline check of one device code against one bare ECDSA verify."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from bench.harness import (
    against_floor,
    bench_env,
    cli,
    floor_server,
    holders_with_passes,
    medians,
    server,
    wrk,
    wrk_script,
)

HOLDERS = 21_000  # three rounds of fresh codes (7,000 each: more than a round scans at 1,700/s)
TARGET = 0.15  # of /healthz (issue 22)
VENUE = "changzhou-museum"


async def _prepare(env: dict[str, str]) -> tuple[str, list[str], str]:
    """A running slot, HOLDERS confirmed bookings with passes, one staff token; then fresh codes."""
    os.environ.update(env)
    from litestar.security.jwt import Token

    from backend.accounts.tables import User
    from backend.lib.auth import hash_password
    from backend.lib.db import start_database, stop_database
    from backend.passes.codes import make_server_code
    from backend.passes.keys import keyring
    from backend.settings import get_settings
    from backend.venues.tables import Venue

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
        # a venue big enough that every measured scan is an admission, not a refusal at capacity
        await Venue.update({Venue.capacity: 10 * HOLDERS}).where(Venue.slug == VENUE)
        key = await keyring.current()
        issued = int(time.time())
        codes = [make_server_code(key, p, issued) for p in pass_ids]
        exp = now + timedelta(hours=1)
        token = Token(sub=str(staff[0]["id"]), exp=exp, jti=uuid.uuid4().hex).encode(get_settings().secret_key, "HS256")
        return token, codes, tag
    finally:
        await stop_database()


# What the run wrote for its own holders (the slot `holders_with_passes` made, the staff `_prepare` made):
# people let in, `ok` log lines and the reservations they name, and the venue's gate count of the day
_WRITTEN = (
    "SELECT booked.admitted, booked.most, logged.ok_lines, logged.ok_reservations, counts.counted FROM "
    "(SELECT COALESCE(SUM(r.entries), 0) AS admitted, COALESCE(MAX(r.entries), 0) AS most "
    "FROM reservations r JOIN slots s ON s.id = r.slot WHERE s.key = {}) AS booked, "
    "(SELECT COUNT(*) AS ok_lines, COUNT(DISTINCT l.reservation_id) AS ok_reservations "
    "FROM scan_log l JOIN users u ON u.id = l.staff_user_id WHERE u.email = {} AND l.result = 'ok') AS logged, "
    "(SELECT COALESCE(SUM(entries), 0) AS counted FROM gate_counts WHERE venue_slug = {} AND local_date = {}) "
    "AS counts"
)


async def _written(env: dict[str, str], tag: str) -> dict[str, int]:
    os.environ.update(env)
    from backend.lib.clock import CITY_TZ
    from backend.lib.db import fetch, start_database, stop_database

    await start_database()
    try:
        day = datetime.now(UTC).astimezone(CITY_TZ).date().isoformat()
        slot, staff = f"{VENUE}|bench-{tag}", f"gate-{tag}@changxiang.test"
        return (await fetch(_WRITTEN, slot, staff, VENUE, day))[0]
    finally:
        await stop_database()


def _exactly_once(before: dict[str, int], after: dict[str, int]) -> str:
    """Every admission of the run once: as many people let in as `ok` log lines, each about a reservation of
    its own, nobody in twice (no re-entry asked), and the gate count up by as many (the day did not turn)."""
    admitted, counted = after["admitted"], after["counted"] - before["counted"]
    once = after["most"] <= 1 and admitted == after["ok_lines"] == after["ok_reservations"] == counted
    assert once, f"scans not exactly once under the load: {before} → {after}"
    return f"exactly once: {admitted:,} let in = {after['ok_lines']:,} ok lines = +{counted:,} counted"


def _scan_rate(url: str, token: str, codes: list[str], seconds: int) -> object:
    # as the scanner sends them (ScanView.vue): each scan with a nonce of its own, so a retry is answered once
    bodies = ",\n".join(
        "[[" + json.dumps({"code": c, "venue_slug": VENUE, "nonce": uuid.uuid4().hex}) + "]]" for c in codes
    )
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


async def _redeem_round_trip_s(database_url: str, n: int = 400) -> float:
    """Seconds for one round trip of the redeem statement alone, straight through the database driver
    (asyncpg, or sqlite3 in a thread as aiosqlite does), on a reservation that does not exist."""
    from backend.passes.scanning import _REDEEM_IN

    now = datetime.now(UTC)
    if database_url.startswith("postgres"):
        import asyncpg

        sql = _REDEEM_IN.format("$1", "$2", "$3")
        conn = await asyncpg.connect(database_url)
        try:
            stmt = await conn.prepare(sql)
            await stmt.fetch(now, -1, True)
            started = time.perf_counter()
            for _ in range(n):
                await stmt.fetch(now, -1, True)
            return (time.perf_counter() - started) / n
        finally:
            await conn.close()
    import sqlite3

    sql = _REDEEM_IN.format("?", "?", "?")
    conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")

    def redeem() -> None:
        with conn:
            conn.execute(sql, (now.isoformat(), -1, True))

    try:
        await asyncio.to_thread(redeem)
        started = time.perf_counter()
        for _ in range(n):
            await asyncio.to_thread(redeem)
        return (time.perf_counter() - started) / n
    finally:
        conn.close()


def run() -> list[tuple]:
    env = bench_env({"CHANGXIANG_AUTH_RATE_LIMIT": "100000"})
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    cli(env, "migrate")
    cli(env, "load-content")
    token, codes, tag = asyncio.run(_prepare(env))
    per_code, per_verify = _offline_verify_us()
    round_trip = asyncio.run(_redeem_round_trip_s(env["DATABASE_URL"]))
    before = asyncio.run(_written(env, tag))
    with server(env) as url:
        headers = {"Authorization": f"Bearer {token}"}
        sample = httpx.post(url + "/api/v1/scans", json={"code": codes.pop(), "venue_slug": VENUE}, headers=headers)
        assert sample.status_code == 200 and sample.json()["result"] == "ok", sample.text
        with floor_server({"scans": sample.content}) as floor_url:
            wrk(url + "/healthz", seconds=1)
            _scan_rate(floor_url, token, codes[:50], 1)
            third = len(codes) // 3  # each round its own fresh codes: every scan measured is a first entry
            rounds = iter(range(3))
            best = medians(
                {
                    "healthz": lambda: wrk(url + "/healthz", seconds=4),
                    "scans": lambda: _scan_rate(url, token, codes[third * (i := next(rounds)) : third * (i + 1)], 4),
                    "floor": lambda: _scan_rate(floor_url, token, codes[:500], 4),
                }
            )
    once = _exactly_once(before, asyncio.run(_written(env, tag)))
    base, scans, floor = best["healthz"], best["scans"], best["floor"]
    extra_s = per_verify / 1e6 + round_trip
    floor_rate = 1 / (1 / floor.requests_per_s + extra_s)
    return [
        ("GET /healthz (baseline, 1 worker)", base.requests_per_s, 1.0, f"p50 {base.p50_ms:.1f} ms{base.cpu_note}"),
        (
            "POST /scans: its floor (bare route + 1 ECDSA verify + redeem round trip)",
            floor_rate,
            floor_rate / base.requests_per_s,
            f"÷ healthz; bare route {floor.requests_per_s:,.0f}/s{floor.cpu_note}, verify {per_verify:.0f} µs, "
            f"round trip {round_trip * 1e6:.0f} µs",
        ),
        (
            "POST /api/v1/scans, distinct valid codes ÷ healthz",
            scans.requests_per_s,
            scans.requests_per_s / base.requests_per_s,
            f"{against_floor(scans, floor, base, extra_s)}; {once}",
            TARGET,
        ),
        (
            "offline check of one device code (µs) ÷ one ECDSA verify",
            per_code,
            per_code / per_verify,
            f"{per_code:.0f} µs vs {per_verify:.0f} µs (Python, cryptography)",
        ),
    ]
