"""The release minute (issue 17): a burst of claim attempts on a first-come voucher campaign.

Default size (the issue's): 20,000 claim attempts from 5,000 verified identities for 2,000 vouchers,
one per person, all queued at once over IN_FLIGHT connections to a real server (`changxiang run`),
three times in the same run:

- `sharded`: the campaign's quota split over 16 rows (the design, docs/vouchers.md);
- `one row`: the same campaign with its quota in a single row (every claimer's transaction updates
  that row: the serialising design the shards replace);
- `booking`: the same burst against the hot-slot booking path (POST /reservations on a slot of 2,000
  seats, one visitor each, the same 5,000 people), the baseline the issue asks for.

Reported: attempts/s, p50/p99 latency, and the checks — issued exactly the quota, no identity twice,
no 5xx. `BENCH_VOUCHER_SCALE=0.1` runs a tenth of the burst (a quick look).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

from bench.harness import bench_env, cli, server

SCALE = float(os.environ.get("BENCH_VOUCHER_SCALE", "1"))
ATTEMPTS = int(20_000 * SCALE)
IDENTITIES = int(5_000 * SCALE)
QUOTA = int(2_000 * SCALE)
IN_FLIGHT = 200


def _resident_id(n: int) -> str:
    """The n-th of 18 million valid resident ID numbers (born 1950-1999, 1,000 a day)."""
    from datetime import date, timedelta

    from backend.lib.id_documents import resident_id_check_char

    born = date(1950, 1, 1) + timedelta(days=n // 1000)
    first17 = f"320402{born:%Y%m%d}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


async def _prepare(env: dict[str, str]) -> tuple[list[str], list[str], dict[str, int]]:
    """Identities, two published campaigns (16 shards, 1 shard) and a 2,000-seat slot, written straight to
    the database. Returns tokens, resident ID numbers and the targets."""
    os.environ.update(env)
    from datetime import UTC, datetime, timedelta

    from litestar.security.jwt import Token

    from backend.accounts.identity import identity_fingerprint_of
    from backend.accounts.tables import Identity, User
    from backend.lib.auth import hash_password
    from backend.lib.clock import clock
    from backend.lib.db import start_database, stop_database
    from backend.lib.personal_data import mask_id_number, vault
    from backend.reservations.services import reservations
    from backend.reservations.tables import Slot
    from backend.settings import get_settings
    from backend.venues.tables import Venue
    from backend.vouchers.tables import Campaign

    await start_database()
    try:
        secret, password, tag = get_settings().secret_key, hash_password("bench-password"), uuid.uuid4().hex[:8]
        ids: list[int] = []
        base = secrets.randbelow(17_000_000)  # a PostgreSQL bench database keeps earlier runs' people
        numbers = [_resident_id(base + i) for i in range(IDENTITIES)]
        box = vault()
        for first in range(0, IDENTITIES, 500):
            chunk = range(first, min(first + 500, IDENTITIES))
            rows = await User.insert(
                *[
                    User(
                        email=f"claim-{tag}-{i}@changxiang.test",
                        password_hash=password,
                        display_name=f"Bench {i}",
                        roles=["tourist"],
                        venue_slugs=[],
                        merchant_ids=[],
                    )
                    for i in chunk
                ]
            ).returning(User.id)
            ids += [r["id"] for r in rows]
            await Identity.insert(
                *[
                    Identity(
                        user_id=rows[k]["id"],
                        fingerprint=identity_fingerprint_of("resident_id", numbers[i]),
                        id_type="resident_id",
                        name_enc=box.encrypt(f"访客{i}", "identity.name"),
                        name_masked="访*",
                        id_number_enc=box.encrypt(numbers[i], "identity.id_number"),
                        id_number_masked=mask_id_number("resident_id", numbers[i]),
                    )
                    for k, i in enumerate(chunk)
                ]
            )
        exp = datetime.now(UTC) + timedelta(hours=2)
        tokens = [Token(sub=str(i), exp=exp, jti=uuid.uuid4().hex).encode(secret, "HS256") for i in ids]
        now = clock.now()
        targets: dict[str, int] = {}
        for name, shards in (("warm-up", 16), ("sharded", 16), ("one row", 1)):
            rows = await Campaign.insert(
                Campaign(
                    title_zh=f"压测券 {name}",
                    title_en=f"bench voucher {name}",
                    kind="voucher",
                    face_value_fen=1000,
                    quota=QUOTA,
                    per_person=1,
                    release_at=now - timedelta(minutes=1),
                    valid_from=now - timedelta(minutes=1),
                    valid_until=now + timedelta(days=7),
                    allocation="first_come",
                    quota_shards=shards,
                    status="published",
                    published_at=now,
                )
            ).returning(Campaign.id)
            targets[name] = rows[0]["id"]
        venue = await Venue.select().where(Venue.slug == "changzhou-museum").first()
        for days in range(1, 8):
            day = clock.city_today() + timedelta(days=days)
            await reservations.ensure_slots(venue, day)
            free = await Slot.select(Slot.id).where(
                (Slot.venue_slug == "changzhou-museum") & (Slot.local_date == day) & (Slot.booked == 0)
            )
            if free:
                targets["booking"] = free[0]["id"]
                await Slot.update({Slot.capacity: QUOTA, Slot.status: "open"}).where(Slot.id == free[0]["id"])
                break
        return tokens, numbers, targets
    finally:
        await stop_database()


async def _fire(
    url: str, requests: list[tuple[str, dict[str, str], bytes]]
) -> tuple[float, list[int], list[float], list[float]]:
    """Every request queued at once over IN_FLIGHT keep-alive connections: (seconds, statuses, latencies
    in ms, each answer's time since the start in s)."""
    parts = urlsplit(url)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(requests)):
        queue.put_nowait(i)
    statuses = [0] * len(requests)
    latencies = [0.0] * len(requests)
    done_at = [0.0] * len(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                path, headers, body = requests[i]
                head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(body)}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
                started = time.perf_counter()
                writer.write(head.encode() + body)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value.strip())
                await reader.readexactly(length)
                latencies[i] = (time.perf_counter() - started) * 1000
                done_at[i] = time.perf_counter() - began
                statuses[i] = int(status_line.split()[1])
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(IN_FLIGHT)])
    return time.perf_counter() - began, statuses, latencies, done_at


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _issued(env: dict[str, str], campaign_id: int) -> tuple[int, int]:
    """(coupons issued, largest number held by one identity), from the database."""
    from backend.lib.db import start_database, stop_database
    from backend.vouchers.tables import Coupon

    await start_database()
    try:
        rows = await Coupon.select(Coupon.identity_hash).where(Coupon.campaign_id == campaign_id)
        per = Counter(r["identity_hash"] for r in rows)
        return len(rows), max(per.values(), default=0)
    finally:
        await stop_database()


async def _confirmed(env: dict[str, str], slot_id: int) -> int:
    from backend.lib.db import start_database, stop_database
    from backend.reservations.tables import Reservation

    await start_database()
    try:
        return await Reservation.count().where((Reservation.slot == slot_id) & (Reservation.status == "confirmed"))
    finally:
        await stop_database()


def run() -> list[tuple[str, float, float, str]]:
    env = bench_env(
        {
            "CHANGXIANG_MAX_ACTIVE_BOOKINGS": "1000000",
            "CHANGXIANG_AUTH_RATE_LIMIT": "100000000",
            # the claim ticket (backend/vouchers/claim_tickets.py) is fetched when the page opens, not in the
            # burst; checking it is one HMAC. The burst measures the claim path, so tickets are off here
            "CHANGXIANG_CLAIM_TICKET_WINDOW_S": "0",
        }
    )
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    cli(env, "migrate")
    cli(env, "load-content")
    tokens, numbers, targets = asyncio.run(_prepare(env))
    order = [i % IDENTITIES for i in range(ATTEMPTS)]  # every identity tries ATTEMPTS / IDENTITIES times
    rows: list[tuple[str, float, float, str]] = []
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    with server(env, workers=workers) as url:
        results = {}
        # a warm-up burst (every identity once, on a third campaign): both server processes have their
        # connections, caches and code paths warm before the measured bursts, whichever runs first
        asyncio.run(
            _fire(
                url,
                [
                    (f"/api/v1/campaigns/{targets['warm-up']}/claim", {"Authorization": f"Bearer {t}"}, b"")
                    for t in tokens
                ],
            )
        )
        for name in ("one row", "sharded"):
            requests = [
                (
                    f"/api/v1/campaigns/{targets[name]}/claim",
                    {"Authorization": f"Bearer {tokens[i]}", "Idempotency-Key": f"b-{name[0]}-{n}"},
                    b"",
                )
                for n, i in enumerate(order)
            ]
            results[name] = asyncio.run(_fire(url, requests))
        booking = [
            (
                "/api/v1/reservations",
                {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[i]}"},
                json.dumps(
                    {
                        "slot_id": targets["booking"],
                        "visitors": [{"name": f"访客{i}", "id_type": "resident_id", "id_number": numbers[i]}],
                    }
                ).encode(),
            )
            for i in order
        ]
        results["booking"] = asyncio.run(_fire(url, booking))
    for name, (took, statuses, latencies, done_at) in results.items():
        counts = Counter(statuses)
        assert not any(s >= 500 for s in counts), (name, counts)
        if name == "booking":
            issued = asyncio.run(_confirmed(env, targets["booking"]))
            check = f"confirmed {issued}/{QUOTA}"
        else:
            issued, most = asyncio.run(_issued(env, targets[name]))
            check = f"issued {issued}/{QUOTA}, no identity twice" if most == 1 else f"issued {issued}, MOST {most}"
            assert issued == QUOTA and most == 1 and counts[201] == QUOTA, (name, issued, most, counts)
        won = [i for i, s in enumerate(statuses) if s == 201]
        sold_out_s = max(done_at[i] for i in won)  # when the last unit was handed out
        won_ms = [latencies[i] for i in won]
        rows.append((name, ATTEMPTS / took, took, latencies, check, dict(sorted(counts.items())), sold_out_s, won_ms))
    base = rows[-1][1]
    label = {"sharded": "claims, 16 quota shards", "one row": "claims, 1 quota row", "booking": "bookings (baseline)"}
    out = []
    for name, rate, took, latencies, check, counts, sold_out_s, won_ms in rows:
        out.append(
            (
                f"release burst: {ATTEMPTS} attempts, {IDENTITIES} people, {QUOTA} units — {label[name]}",
                rate,
                rate / base,
                f"all answers p50 {_pct(latencies, 0.5):.0f} ms, p99 {_pct(latencies, 0.99):.0f} ms; "
                f"the {QUOTA} winners p50 {_pct(won_ms, 0.5):.0f} ms, p99 {_pct(won_ms, 0.99):.0f} ms; "
                f"sold out after {sold_out_s:.1f} s ({QUOTA / sold_out_s:.0f} units/s); {check}; {took:.1f} s in all; "
                f"statuses {counts}",
            )
        )
    return out
