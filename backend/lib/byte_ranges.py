"""Static files that answer HTTP `Range` requests (RFC 9110 §14): `/media` (tour audio, exhibition images),
so a phone's player can seek and iPhones, which ask for `bytes=0-1` first, play at all.

One range per request (what players send): `bytes=a-b`, `bytes=a-` and `bytes=-n` give 206 with
`Content-Range`; a range past the end is 416 with `Content-Range: bytes */size`; a malformed or multi-range
header is ignored (200, the whole file), as the RFC allows. Every answer says `Accept-Ranges: bytes`.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import Any

import anyio
from litestar import Request, Response, route
from litestar.datastructures import CacheControlHeader
from litestar.response import File

from backend.lib.auth import PUBLIC
from backend.lib.problems import NotFound

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(first, last) inclusive for one satisfiable range; None to send the whole file; "unsatisfiable"."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    first_s, last_s = m.groups()
    if not first_s:  # the last n bytes
        n = int(last_s)
        if n == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None
    if first >= size:
        return "unsatisfiable"
    return first, min(last, size - 1)


def media_files(path: str, directory: Path, name: str, headers: dict[str, str], max_age: int) -> Any:
    """A GET/HEAD route at `path` + `/{file_path:path}` serving `directory` with ranges."""
    root = directory.resolve()
    cache = CacheControlHeader(public=True, max_age=max_age)

    @route(
        f"{path}/{{file_path:path}}",
        http_method=["GET", "HEAD"],
        opt=PUBLIC,
        include_in_schema=False,
        name=name,
        cache_control=cache,
    )
    async def serve(request: Request[Any, Any, Any], file_path: str) -> Response[Any]:
        target = (root / file_path.lstrip("/")).resolve()
        if not target.is_relative_to(root) or not await anyio.Path(target).is_file():
            raise NotFound("not_found", "no such file")
        size = (await anyio.Path(target).stat()).st_size
        media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        common = {**headers, "Accept-Ranges": "bytes"}
        wanted = parse_range(request.headers.get("range"), size)
        if wanted == "unsatisfiable":
            return Response(b"", status_code=416, headers={**common, "Content-Range": f"bytes */{size}"})
        if wanted is None or isinstance(wanted, str):
            return File(target, media_type=media_type, headers=common, content_disposition_type="inline")
        first, last = wanted
        body = b""
        if request.method != "HEAD":
            async with await anyio.open_file(target, "rb") as f:
                await f.seek(first)
                body = await f.read(last - first + 1)
        return Response(
            body,
            status_code=206,
            media_type=media_type,
            headers={
                **common,
                "Content-Range": f"bytes {first}-{last}/{size}",
                "Content-Length": str(last - first + 1),
            },
        )

    return serve
