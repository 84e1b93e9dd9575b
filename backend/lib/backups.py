"""Backups of the database: `changxiang backup --out FILE` and `changxiang restore FILE`.

SQLite (the embedded default): SQLite's online backup API copies the database page by page under
SQLite's own locking, so the copy is consistent while the server keeps serving (WAL readers and the
writer go on). The copy is checked (`PRAGMA integrity_check`) and renamed into place. Restore copies a
checked backup file over the configured database with the same API.

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction`
(docs/operations.md); the PostgreSQL client tools must be installed (`apt-get install postgresql-client`)
and of the server's major version or newer.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from backend.lib.sqlite_engine import sqlite_path

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    pass


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _checked_sqlite(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        has_migrations = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'migration'"
        ).fetchone()[0]
    finally:
        conn.close()
    if result != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {result}")
    if not has_migrations:
        raise BackupError(f"{path} is not a Changxiang database (no migration table)")


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (postgresql-client)")
    return tool


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def backup(database_url: str, out: Path) -> str:
    """Write a consistent copy of the database to `out` (atomically: a partial file never has its name)."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if _is_postgres(database_url):
            _run(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    str(tmp),
                    database_url,
                ]
            )
            kind = "PostgreSQL custom-format dump"
        else:
            source = sqlite3.connect(sqlite_path(database_url), timeout=30)
            target = sqlite3.connect(tmp)
            try:
                with target:
                    source.backup(target, pages=1024)
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                target.close()
                source.close()
            _checked_sqlite(tmp)
            kind = "SQLite database"
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return f"{kind}, {out.stat().st_size} bytes"


def restore(database_url: str, backup_file: Path) -> str:
    """Replace the database's content with the backup's. Stop the servers first (docs/operations.md)."""
    backup_file = backup_file.resolve()
    if not backup_file.is_file():
        raise BackupError(f"no such file: {backup_file}")
    with backup_file.open("rb") as fh:
        head = fh.read(16)
    if _is_postgres(database_url):
        if not head.startswith(PG_MAGIC):
            raise BackupError(f"{backup_file} is not a pg_dump custom-format file")
        _run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                database_url,
                str(backup_file),
            ]
        )
        return "restored into PostgreSQL"
    _checked_sqlite(backup_file)
    target_path = sqlite_path(database_url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        with target:
            source.backup(target, pages=1024)
    finally:
        target.close()
        source.close()
    return f"restored into {target_path}"
