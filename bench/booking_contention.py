"""Contention: 1,000 concurrent booking attempts on one slot of 100 seats (issue 3).

The server runs in its own process (`changxiang run`); this process makes 200 tourists directly in
the database (one shared password hash, tokens signed with the server's key) and fires the
attempts through HTTP with up to 200 in flight. Reported: attempts/s, confirmations/s on a hot slot
big enough for everyone, the final count (must be exactly the capacity), and the same client's
/healthz rate as the baseline.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx

from bench.harness import against_floor, bench_env, cli, floor_server, server, wrk

ATTEMPTS = 1000
SEATS = 100
TOURISTS = 200
IN_FLIGHT = 100
HOT_SECONDS = 5
HOT_BODIES = 20_000


def _resident_id(n: int) -> str:
    from backend.lib.id_documents import resident_id_check_char

    first17 = f"3204021990{(n // 1000) % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


async def _prepare(env: dict[str, str]) -> tuple[list[str], list[int]]:
    """Tourists and two fresh slots (100 seats, and 1,000 seats), written straight to the database."""
    os.environ.update(env)
    from litestar.security.jwt import Token

    from backend.accounts.tables import User
    from backend.lib.auth import hash_password
    from backend.lib.clock import clock
    from backend.lib.db import start_database, stop_database
    from backend.reservations.services import reservations
    from backend.reservations.tables import Slot
    from backend.settings import get_settings
    from backend.venues.tables import Venue

    await start_database()
    try:
        secret = get_settings().secret_key
        password = hash_password("bench-password")
        tag = uuid.uuid4().hex[:8]
        rows = await User.insert(
            *[
                User(
                    email=f"bench-{tag}-{i}@changxiang.test",
                    password_hash=password,
                    display_name=f"Bench {i}",
                    roles=["tourist"],
                    venue_slugs=[],
                )
                for i in range(TOURISTS)
            ]
        ).returning(User.id)
        exp = __import__("datetime").datetime.now(__import__("datetime").UTC) + __import__("datetime").timedelta(
            hours=1
        )
        tokens = [Token(sub=str(r["id"]), exp=exp, jti=uuid.uuid4().hex).encode(secret, "HS256") for r in rows]
        venue = await Venue.select().where(Venue.slug == "changzhou-museum").first()
        slot_ids: list[int] = []
        from datetime import timedelta

        for days in range(1, 8):
            day = clock.city_today() + timedelta(days=days)
            await reservations.ensure_slots(venue, day)
            for s in await Slot.select(Slot.id).where(
                (Slot.venue_slug == venue["slug"])
                & (Slot.local_date == day)
                & (Slot.booked == 0)
                & (Slot.status == "open")
            ):
                slot_ids.append(s["id"])
            if len(slot_ids) >= 2:
                break
        await Slot.update({Slot.capacity: SEATS}).where(Slot.id == slot_ids[0])
        await Slot.update({Slot.capacity: 1_000_000}).where(Slot.id == slot_ids[1])
        return tokens, slot_ids[:2]
    finally:
        await stop_database()


def _body(slot_id: int, i: int) -> dict:
    return {
        "slot_id": slot_id,
        "visitors": [{"name": f"访客{i}", "id_type": "resident_id", "id_number": _resident_id(i + slot_id * 100_000)}],
    }


async def _fire_exact(url: str, tokens: list[str], slot_id: int) -> tuple[float, dict[int | str, int]]:
    """Exactly ATTEMPTS attempts, all queued at once over IN_FLIGHT connections; their statuses."""
    import json

    from bench.harness import post_many

    requests = [
        (
            "/api/v1/reservations",
            {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[i % len(tokens)]}"},
            json.dumps(_body(slot_id, i)).encode(),
        )
        for i in range(ATTEMPTS)
    ]
    took, answers = await post_many(url, requests, IN_FLIGHT)
    counts: dict[int | str, int] = {}
    for status, body in answers:
        key: int | str = status if status < 400 else f"{status} {json.loads(body).get('code')}"
        counts[key] = counts.get(key, 0) + 1
    return took, counts


def _wrk_hot_slot(url: str, tokens: list[str], slot_id: int, seconds: int):
    """wrk books distinct visitors on one hot slot for `seconds`; returns its request rate."""
    import json

    from bench.harness import wrk_script

    bodies = ",\n".join("[[" + json.dumps(_body(slot_id, i), ensure_ascii=False) + "]]" for i in range(HOT_BODIES))
    lua_tokens = ",\n".join(f'"{t}"' for t in tokens)
    script = f"""
local bodies = {{ {bodies} }}
local tokens = {{ {lua_tokens} }}
local i = 0
request = function()
  i = i + 1
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[((i - 1) % #tokens) + 1]
  return wrk.format("POST", "/api/v1/reservations", headers, bodies[((i - 1) % #bodies) + 1])
end
"""
    return wrk_script(url, script, seconds, connections=64)


async def _confirmed(env: dict[str, str], slot_id: int) -> int:
    from backend.lib.db import start_database, stop_database
    from backend.reservations.tables import Reservation, Slot

    await start_database()
    try:
        booked = (await Slot.select(Slot.booked).where(Slot.id == slot_id).first())["booked"]
        confirmed = await Reservation.count().where((Reservation.slot == slot_id) & (Reservation.status == "confirmed"))
        assert booked == confirmed, (booked, confirmed)
        return confirmed
    finally:
        await stop_database()


def run() -> list[tuple]:
    env = bench_env({"CHANGXIANG_MAX_ACTIVE_BOOKINGS": "1000000", "CHANGXIANG_AUTH_RATE_LIMIT": "1000"})
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    cli(env, "migrate")
    cli(env, "load-content")
    tokens, (hot100, hot_big) = asyncio.run(_prepare(env))
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    with server(env, workers=workers) as url:
        took, counts = asyncio.run(_fire_exact(url, tokens, hot100))
        headers = {"Authorization": f"Bearer {tokens[0]}"}
        sample = httpx.post(url + "/api/v1/reservations", json=_body(hot_big, HOT_BODIES), headers=headers)
        assert sample.status_code == 201, sample.text
        base = wrk(url + "/healthz", seconds=3, connections=IN_FLIGHT)
        hot = _wrk_hot_slot(url, tokens, hot_big, HOT_SECONDS)
        with floor_server({"reservations": sample.content}, workers=workers) as floor_url:
            floor = _wrk_hot_slot(floor_url, tokens, hot_big, 3)
    confirmed = asyncio.run(_confirmed(env, hot100))
    confirmed_big = asyncio.run(_confirmed(env, hot_big)) - 1  # the sample
    assert confirmed == SEATS and counts.get(201) == SEATS and not any(str(s).startswith("5") for s in counts), counts
    assert hot.non_2xx == 0, hot
    rate = confirmed_big / HOT_SECONDS
    return [
        (f"GET /healthz, wrk, {workers} workers (baseline)", base.requests_per_s, 1.0, base.cpu_note.lstrip("; ")),
        (
            f"{ATTEMPTS} concurrent attempts on {SEATS} seats",
            ATTEMPTS / took,
            ATTEMPTS / took / base.requests_per_s,
            f"confirmed exactly {confirmed}/{SEATS}; statuses {dict(sorted(counts.items(), key=str))}; {took:.2f} s ",
        ),
        (
            "POST /reservations: its floor (bare route, same body and answer)",
            floor.requests_per_s,
            floor.requests_per_s / base.requests_per_s,
            f"÷ healthz; {workers} workers{floor.cpu_note}",
        ),
        (
            "hot slot: confirmed bookings/s ÷ healthz",
            rate,
            rate / base.requests_per_s,
            f"{confirmed_big} confirmed in {HOT_SECONDS} s; {against_floor(hot, floor, base)}; "
            f"socket errors/timeouts {hot.errors}",
        ),
        (
            "hot slot: confirmed bookings/s (target on PostgreSQL: 300/s)",
            rate,
            rate / 300,
            "÷ 300/s",
            1.0 if os.environ.get("DATABASE_URL", "").startswith("postgres") else None,
        ),
    ]
