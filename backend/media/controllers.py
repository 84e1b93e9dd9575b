from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_201_CREATED

from backend.lib.auth import AuthUser
from backend.lib.problems import InvalidInput
from backend.media.inspection import MAX_IMAGE_BYTES
from backend.media.schemas import UploadOut
from backend.media.services import media

# a 5 MB photo plus the multipart envelope; a larger body is refused by Litestar (413) before it is parsed
UPLOAD_BODY_MAX = MAX_IMAGE_BYTES + 256 * 1024
PRIVATE = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


def serve(data: bytes, content_type: str) -> Response[bytes]:
    """An upload as its own (sniffed) type, never rendered as a page: `attachment` for anything else."""
    return Response(
        data,
        media_type=content_type,
        headers={**PRIVATE, "Content-Disposition": "inline", "Content-Security-Policy": "default-src 'none'"},
    )


class UploadController(Controller):
    path = "/uploads"
    tags = ["help and SOS"]

    @post("/", status_code=HTTP_201_CREATED, request_max_body_size=UPLOAD_BODY_MAX)
    async def upload(
        self,
        request: Request[AuthUser, Token, State],
        data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> UploadOut:
        """A photo (JPEG, PNG or WebP, ≤ 5 MB) or a voice note (AAC, Opus or MP3, ≤ 2 min) as the multipart
        field `file`. The type is read from the content, not the name: anything else is 415
        `unsupported_file_type`, too large 413 `file_too_large`. Images come back without EXIF or GPS."""
        upload = data.get("file") if isinstance(data, dict) else None
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file_required", "send the file as the multipart field `file`", field="file")
        body = await upload.read()
        return await media.upload(request.user.id, body)

    @get("/{upload_id:str}", media_type="application/octet-stream")
    async def read(self, request: Request[AuthUser, Token, State], upload_id: str) -> Response[bytes]:
        """One of my uploads (anyone else's is 404; a case's attachments are served with the case)."""
        stored = await media.read(upload_id, owner_id=request.user.id)
        return serve(stored.data, stored.content_type)
