from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put, route
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, Parameter
from litestar.response import File
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.auth import PUBLIC, AuthUser, require_roles
from backend.lib.pagination import Limit, Offset, Page
from backend.lib.problems import InvalidInput
from backend.media.inspection import MAX_IMAGE_BYTES
from backend.media.library import IMMUTABLE, library
from backend.media.schemas import GalleryIn, GalleryOut, PhotoOut, PhotoPatch, UploadOut
from backend.media.services import media
from backend.settings import Settings

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


PhotoId = Annotated[str, Parameter(max_length=64)]


class PhotoLibraryController(Controller):
    """The marketers' photo library (docs/media.md): marketers and admins only. The photos themselves
    (their variants under /media/p/) are public."""

    path = "/photos"
    tags = ["publishing"]
    guards = [require_roles("marketer")]

    @post("/", status_code=HTTP_201_CREATED, request_max_body_size=UPLOAD_BODY_MAX)
    async def upload_photo(
        self,
        request: Request[AuthUser, Token, State],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> PhotoOut:
        """A photo (JPEG, PNG or WebP ≤ 5 MB, sniffed by content, EXIF and GPS removed) as the multipart
        field `file`, with `alt_zh`, `alt_en` (≤ 300 characters each) and `credit` (≤ 200), all required:
        400 `alt_required`, `alt_too_long`, `credit_required`, `credit_too_long`, `file_required`."""
        upload = data.get("file") if isinstance(data, dict) else None
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file_required", "send the photo as the multipart field `file`", field="file")
        fields = {k: v for k, v in data.items() if isinstance(v, str)}
        library.check_texts(fields.get("alt_zh"), fields.get("alt_en"), fields.get("credit"))
        body = await upload.read()
        return await library.upload(
            request.user.id, body, fields.get("alt_zh"), fields.get("alt_en"), fields.get("credit")
        )

    @get("/")
    async def list_photos(
        self,
        q: Annotated[str | None, Parameter(description="words of the alt text or credit", max_length=100)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PhotoOut]:
        """The library, newest first."""
        items, total = await library.search(q, limit, offset)
        return Page(items=items, total=total)

    @get("/{photo_id:str}")
    async def get_photo(self, photo_id: PhotoId) -> PhotoOut:
        return await library.get(photo_id)

    @patch("/{photo_id:str}")
    async def edit_photo(self, photo_id: PhotoId, data: PhotoPatch) -> PhotoOut:
        """Change the alt text or the credit (the same limits as at upload)."""
        alt = data.alt
        return await library.edit(photo_id, alt.zh if alt else None, alt.en if alt else None, data.credit)

    @delete("/{photo_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_photo(self, request: Request[AuthUser, Token, State], photo_id: PhotoId) -> None:
        """A photo no gallery shows (409 `photo_in_use` otherwise)."""
        settings: Settings = request.app.state.settings
        await library.delete(photo_id, settings.media_cache_dir)


class GalleryController(Controller):
    """The gallery of one item (venues, events, articles, tours, exhibitions; by slug). Events, articles,
    tours and exhibitions also take `gallery` in their publishing bodies."""

    path = "/galleries/{kind:str}/{slug:str}"
    tags = ["publishing"]
    guards = [require_roles("marketer")]

    @get("/")
    async def get_gallery(self, kind: str, slug: str) -> GalleryOut:
        return await library.get_gallery(kind, slug)

    @put("/")
    async def put_gallery(self, kind: str, slug: str, data: GalleryIn) -> GalleryOut:
        """Replace the gallery: library photo ids in order (400 `unknown_photo`; 404 `item_not_found`)."""
        return await library.put_gallery(kind, slug, data.photo_ids)


@route(
    "/media/p/{photo_id:str}/{name:str}",
    http_method=["GET", "HEAD"],
    opt=PUBLIC,
    include_in_schema=False,
    name="photo_variant",
)
async def photo_variant(request: Request[Any, Any, State], photo_id: str, name: str) -> Response[Any]:
    """A library photo at one width in one format (`{width}.webp|avif|jpg`); immutable, cached a year."""
    settings: Settings = request.app.state.settings
    found = await library.variant(photo_id, name, settings.media_cache_dir)
    if found is None:
        raise NotFoundException("no such photo")
    path, media_type = found
    return File(
        path,
        content_disposition_type="inline",
        media_type=media_type,
        headers={"Cache-Control": IMMUTABLE, "Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"},
    )
