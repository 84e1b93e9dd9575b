"""The city's content pictures (content/media) in responsive sizes, and the pictures content gets by default.

- `GET /media/w/{width}/{path}`: the picture `/media/{path}` scaled to `width` px wide (one of `WIDTHS`, never
  wider than the original), as WebP, with a week's cache lifetime. The app asks for them in `srcset`s
  (pwa/src/pictures.js), so a phone downloads the size it shows.
- Variants are made with Pillow in a worker thread (lib/offload: never on the event loop): all of them at
  `changxiang load-content` (`make_all_variants`, a few threads), into `CHANGXIANG_MEDIA_CACHE_DIR` (default
  `CHANGXIANG_VAR_DIR/media-variants/`); a replica that did not run the load (its own var/) makes a missing
  one on first request, once however many ask at once. A variant newer than its original is kept.
- `with_default_pictures`: until the city loads its photographs, every venue, event and article without
  pictures of its own gets our illustration (content/media/illustrations, content/make_illustrations.py):
  a venue its own, an event its category's, an article its own.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from litestar import Request, Response, route
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.response import File

from backend.lib import offload
from backend.lib.auth import PUBLIC
from backend.lib.web_shell import PICTURE_WIDTHS
from backend.settings import Settings

log = logging.getLogger("changxiang.media")

WIDTHS = PICTURE_WIDTHS
PICTURE_SUFFIXES = (".webp", ".png", ".jpg", ".jpeg")
ILLUSTRATIONS = "illustrations"
CACHE_CONTROL = "public, max-age=604800"
_SAFE = re.compile(r"^(?!.*(?:\.\.|//))[A-Za-z0-9._~/-]+\Z")


def variant_path(cache_dir: Path, width: int, rel: str) -> Path:
    return cache_dir / str(width) / f"{rel}.webp"


def make_variant(src: Path, dst: Path, width: int) -> None:
    """Scale `src` to `width` px wide (or keep its width when it is narrower) and write WebP to `dst`,
    atomically (a reader never sees half a file)."""
    from PIL import Image

    with Image.open(src) as image:
        image.load()
        picture = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    if picture.width > width:
        height = round(picture.height * width / picture.width)
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    picture.save(tmp, "WEBP", quality=78, method=0)
    os.replace(tmp, dst)


def _fresh(src: Path, dst: Path) -> bool:
    return dst.is_file() and dst.stat().st_mtime >= src.stat().st_mtime


def pictures_under(media_dir: Path) -> list[str]:
    """Every picture under content/media, as paths relative to it."""
    if not media_dir.is_dir():
        return []
    return sorted(str(p.relative_to(media_dir)) for p in media_dir.rglob("*") if p.suffix.lower() in PICTURE_SUFFIXES)


def make_all_variants(media_dir: Path, cache_dir: Path) -> int:
    """Every size of every content picture that is missing or older than its original; the number made.
    Pillow releases the GIL while it scales and encodes, so a few threads share the work."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = []
    for rel in pictures_under(media_dir):
        src = media_dir / rel
        for width in WIDTHS:
            dst = variant_path(cache_dir, width, rel)
            if not _fresh(src, dst):
                jobs.append((src, dst, width))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        list(pool.map(lambda job: make_variant(*job), jobs))
    return len(jobs)


async def ensure_variant(media_dir: Path, cache_dir: Path, width: int, rel: str) -> Path | None:
    """The variant's file, made (off the event loop, once however many ask) if missing; None when there is
    no such picture or size."""
    if width not in WIDTHS or not _SAFE.match(rel) or Path(rel).suffix.lower() not in PICTURE_SUFFIXES:
        return None
    src = media_dir / rel
    if not src.is_file():
        return None
    dst = variant_path(cache_dir, width, rel)
    await offload.make_once(str(dst), lambda: _fresh(src, dst), lambda: offload.cpu(make_variant, src, dst, width))
    return dst


@route(
    "/media/w/{width:int}/{path:path}",
    http_method=["GET", "HEAD"],
    opt=PUBLIC,
    include_in_schema=False,
    name="picture_variant",
)
async def picture_variant(request: Request[Any, Any, State], width: int, path: str) -> Response[Any]:
    """`/media/{path}` at `width` px wide, as WebP (widths: 320, 640, 960, 1280)."""
    settings: Settings = request.app.state.settings
    found = await ensure_variant(settings.content_dir / "media", settings.media_cache_dir, width, path.lstrip("/"))
    if found is None:
        raise NotFoundException("no such picture")
    return File(
        found,
        content_disposition_type="inline",
        media_type="image/webp",
        headers={"Cache-Control": CACHE_CONTROL, "Access-Control-Allow-Origin": "*"},
    )


# ---- the pictures content gets until the city loads its own


def event_cover(image: str | None, category: str) -> str:
    """An event's picture: its own, or (an event a marketer made without one, or with a URL we do not serve)
    its category's illustration, which exists for every category (tests/api/test_pictures.py)."""
    return image or f"/media/{ILLUSTRATIONS}/events/{category}.webp"


def _illustration(content_dir: Path, kind: str, name: str) -> str | None:
    rel = f"{ILLUSTRATIONS}/{kind}/{name}.webp"
    return f"/media/{rel}" if (content_dir / "media" / rel).is_file() else None


def with_default_pictures(kind: str, raw: list[dict[str, Any]], content_dir: Path) -> list[dict[str, Any]]:
    """`raw` content items (as read from venues.toml, events.toml, articles.toml), each without pictures of its
    own given our illustration: a venue `images = [its own]`, an event `image = its category's`, an article
    `image = its own`. Items with pictures keep them."""
    out = []
    for item in raw:
        item = dict(item)
        if kind == "venue" and not item.get("images"):
            found = _illustration(content_dir, "venues", str(item.get("slug")))
            if found:
                item["images"] = [found]
        elif kind == "event" and not item.get("image"):
            found = _illustration(content_dir, "events", str(item.get("category")))
            if found:
                item["image"] = found
        elif kind == "article" and not item.get("image"):
            found = _illustration(content_dir, "articles", str(item.get("slug")))
            if found:
                item["image"] = found
        out.append(item)
    return out
