"""The schema as migrated (issue 22: every index is one more page written by every insert): no two indexes
of a table cover the same columns in the same order, so a unique column is indexed once, by its UNIQUE
constraint, and the scan log, written by every gate scan, carries only the indexes its reads use."""

from __future__ import annotations

from collections import Counter

import pytest

from backend.lib.db import engine, is_sqlite

pytestmark = pytest.mark.anyio


async def _indexes() -> list[tuple[str, str, tuple[str, ...], bool]]:
    """(table, index, its columns in order, partial) of every index in the database."""
    db = engine()
    out = []
    if is_sqlite():
        tables = await db.run_ddl("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        for table in (t["name"] for t in tables):
            for index in await db.run_ddl(f"PRAGMA index_list('{table}')"):
                columns = await db.run_ddl(f"PRAGMA index_info('{index['name']}')")
                ordered = tuple(c["name"] for c in sorted(columns, key=lambda c: c["seqno"]))
                out.append((table, index["name"], ordered, bool(index["partial"])))
        return out
    rows = await db.run_ddl(
        "SELECT t.relname AS tbl, i.relname AS idx, x.indpred IS NOT NULL AS partial, "
        "ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) AS cols "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = 'public'"
    )
    return [(r["tbl"], r["idx"], tuple(r["cols"]), r["partial"]) for r in rows]


async def test_no_table_has_two_indexes_on_the_same_columns(app):
    indexes = await _indexes()
    assert len(indexes) > 50  # the whole schema was read
    same = Counter((table, columns) for table, _, columns, partial in indexes if not partial)
    twice = sorted(key for key, n in same.items() if n > 1)
    assert twice == [], f"indexed twice: {twice}"


async def test_the_scan_log_carries_only_what_its_reads_use(app):
    on_log = sorted(columns for table, _, columns, _ in await _indexes() if table == "scan_log")
    # the nonce's unique index; one by day and venue; on PostgreSQL the primary key has an index of its own
    assert [c for c in on_log if c != ("id",)] == [("local_date", "venue_slug"), ("nonce",)]
