"""`changxiang backup` while the server runs, then `changxiang restore` into another database: every
table has the same rows; after the restored copy is changed, restoring again brings it back."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import anyio
import pytest

from backend.settings import get_settings
from tests.api.reservation_helpers import fresh_slot, visitor
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio

VENUE = "changzhou-museum"


async def cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """In a worker thread: the app's own writers go on while the command runs."""
    env = dict(os.environ, DATABASE_URL=database_url)
    command = [sys.executable, "-m", "backend.cli", *args]
    return await anyio.to_thread.run_sync(
        lambda: subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    )


def _norm(rows: list) -> list:
    return sorted(tuple(repr(v) for v in row) for row in rows)


async def snapshot(database_url: str) -> dict[str, list]:
    """Every table's rows (order-independent), read without the app."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            return {n: _norm(conn.execute(f'SELECT * FROM "{n}"').fetchall()) for n in names}
        finally:
            conn.close()
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        names = [r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public' ORDER BY 1")]
        return {n: _norm([tuple(r.values()) for r in await conn.fetch(f'SELECT * FROM "{n}"')]) for n in names}
    finally:
        await conn.close()


async def change(database_url: str) -> None:
    """Someone damages the copy: a table emptied, a row edited, a row added."""
    statements = [
        "DELETE FROM reservation_visitors",
        "UPDATE venues SET capacity = capacity + 1",
        "INSERT INTO audit_anchor (seq, hash, pruned_before, pruned_at) "
        "VALUES (1, 'x', '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00')",
    ]
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        with conn:
            for sql in statements:
                conn.execute(sql)
        conn.close()
        return
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def scratch_database(tmp_path: Path):
    """Where the backup is restored: a new SQLite file, or a new PostgreSQL database on the same server."""
    url = get_settings().database_url
    if url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    base, _, _ = url.rpartition("/")
    name = f"cx_restore_{uuid.uuid4().hex[:8]}"
    psql = ["psql", f"{base}/postgres", "-q", "-c"]
    subprocess.run([*psql, f"CREATE DATABASE {name}"], check=True)
    try:
        yield f"{base}/{name}"
    finally:
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)


async def test_backup_while_serving_then_restore_and_compare_every_table(
    client, make_account, scratch_database, tmp_path
):
    live = get_settings().database_url
    tourist = await make_account("tourist")
    slot = await fresh_slot(client, VENUE)
    booked = await client.post(
        "/api/v1/reservations", json={"slot_id": slot["id"], "visitors": [visitor()]}, headers=tourist["headers"]
    )
    assert booked.status_code == 201

    out = tmp_path / "backup.bin"
    done = await cli(live, "backup", "--out", str(out))
    assert done.returncode == 0, done.stderr
    at_backup = await snapshot(live)
    assert at_backup["reservation_visitors"] and at_backup["venues"] and at_backup["users"]

    # the server goes on taking bookings after the backup was taken
    later = await make_account("tourist")
    assert (
        await client.post(
            "/api/v1/reservations", json={"slot_id": slot["id"], "visitors": [visitor()]}, headers=later["headers"]
        )
    ).status_code == 201

    restored = await cli(scratch_database, "restore", str(out))
    assert restored.returncode == 0, restored.stderr
    first = await snapshot(scratch_database)
    assert set(first) == set(at_backup)
    assert {n: len(r) for n, r in first.items()} == {n: len(r) for n, r in at_backup.items()}
    assert first == at_backup  # row for row, every table: the backup is the moment it was taken

    await change(scratch_database)
    assert await snapshot(scratch_database) != first
    again = await cli(scratch_database, "restore", str(out))
    assert again.returncode == 0, again.stderr
    assert await snapshot(scratch_database) == first


async def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    done = await cli(get_settings().database_url, "restore", str(junk))
    assert done.returncode != 0 and "restore failed" in done.stderr
