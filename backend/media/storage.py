"""One storage interface for uploaded files (`MediaStorage`), so where bytes live is a setting:
`STORAGE_URL` unset (a directory under `CHANGXIANG_VAR_DIR`) or `file:///DIR` keep them on local disk.
An S3-compatible store (`s3://…`) is the next implementation of the same three methods; until it exists
such a URL is refused at start rather than silently writing to disk (docs/cases.md)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from backend.settings import Settings

_KEY = re.compile(r"^[a-z0-9][a-z0-9/_.-]{0,118}$")


class MediaStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...


def _checked(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under `root`, written to a temporary name and renamed (a reader never sees half a file);
    disk work runs in a worker thread, off the event loop."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def _read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    async def put(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._write, key, data)

    async def get(self, key: str) -> bytes | None:
        return await anyio.to_thread.run_sync(self._read, key)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))


def storage_for(settings: Settings) -> MediaStorage:
    url = settings.storage_url
    if not url:
        return LocalStorage(settings.var_dir / "uploads")
    if url.startswith("file://"):
        return LocalStorage(Path(url.removeprefix("file://")))
    raise ValueError(f"STORAGE_URL {url.split(':', 1)[0]}:// is not supported yet (file:// or unset)")
