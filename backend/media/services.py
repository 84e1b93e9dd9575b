"""Uploads: a photo or voice note is sniffed and cleaned off the event loop (`inspection.py` through
lib/offload), stored behind the storage interface (`storage.py`), and recorded for its owner.

The media room does not decide who may see a file beyond its owner: a room that attaches uploads (cases)
checks its own visibility rules, then reads the bytes here (`read`)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from backend.lib import offload
from backend.lib.clock import clock
from backend.lib.problems import InvalidInput, NotFound
from backend.media.inspection import clean
from backend.media.schemas import StoredFile, UploadOut
from backend.media.storage import MediaStorage, storage_for
from backend.media.tables import Upload
from backend.settings import get_settings

log = logging.getLogger("changxiang.media")

UPLOAD_URL = "/api/v1/uploads/{id}"


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def upload_out(row: dict[str, Any], url: str | None = None) -> UploadOut:
    public_id = str(row["public_id"])
    return UploadOut(
        id=public_id,
        url=url or UPLOAD_URL.format(id=public_id),
        content_type=row["content_type"],
        bytes=row["bytes"],
        kind=row["kind"],
        duration_s=row["duration_s"],
        width=row["width"],
        height=row["height"],
    )


class MediaService:
    def __init__(self) -> None:
        self._storage: MediaStorage | None = None

    def configure(self, storage: MediaStorage) -> None:
        self._storage = storage

    @property
    def storage(self) -> MediaStorage:
        if self._storage is None:
            self._storage = storage_for(get_settings())
        return self._storage

    async def upload(self, owner_id: int, data: bytes) -> UploadOut:
        """Store one file for `owner_id`: sniffed by content, images without metadata, voice notes of at
        most two minutes (refusals in inspection.py)."""
        cleaned = await offload.cpu(clean, data)
        public_id = uuid.uuid4()
        day = clock.now().strftime("%Y/%m/%d")
        key = f"{day}/{public_id.hex}"
        await self.storage.put(key, cleaned.data)
        row: dict[str, Any] = {
            "public_id": public_id,
            "owner_id": owner_id,
            "kind": cleaned.kind,
            "content_type": cleaned.content_type,
            "bytes": len(cleaned.data),
            "duration_s": cleaned.duration_s,
            "width": cleaned.width,
            "height": cleaned.height,
            "sha256": hashlib.sha256(cleaned.data).hexdigest(),
            "storage_key": key,
        }
        await Upload.insert(Upload(**row))
        log.info("upload stored", extra={"upload": str(public_id), "kind": cleaned.kind, "bytes": row["bytes"]})
        return upload_out(row)

    async def owned(self, owner_id: int, ids: Sequence[str], field: str = "attachment_ids") -> list[str]:
        """`ids`, if every one names an upload of `owner_id`; else 400 `unknown_attachment`."""
        wanted = {_uuid(i) for i in ids}
        if None in wanted:
            raise InvalidInput("unknown_attachment", "an attachment id is not an upload of yours", field=field)
        if not wanted:
            return []
        rows = await Upload.select(Upload.public_id).where(
            Upload.public_id.is_in(list(wanted)) & (Upload.owner_id == owner_id)
        )
        if len(rows) != len(wanted):
            raise InvalidInput("unknown_attachment", "an attachment id is not an upload of yours", field=field)
        return [str(u) for u in dict.fromkeys(_uuid(i) for i in ids)]

    async def describe(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The rows of the uploads `ids` (by id), for a room that lists its attachments."""
        keys = [u for u in (_uuid(i) for i in ids) if u is not None]
        if not keys:
            return {}
        rows = await Upload.select().where(Upload.public_id.is_in(keys))
        return {str(r["public_id"]): r for r in rows}

    async def read(self, upload_id: str, owner_id: int | None = None) -> StoredFile:
        """The bytes of an upload (of `owner_id` only, when given); 404 `upload_not_found` otherwise."""
        key = _uuid(upload_id)
        where: Any = Upload.public_id == key
        if owner_id is not None:
            where &= Upload.owner_id == owner_id
        row = await Upload.select(Upload.storage_key, Upload.content_type).where(where).first() if key else None
        data = await self.storage.get(row["storage_key"]) if row else None
        if row is None or data is None:
            raise NotFound("upload_not_found", "no such upload")
        return StoredFile(data=data, content_type=row["content_type"])


media = MediaService()
