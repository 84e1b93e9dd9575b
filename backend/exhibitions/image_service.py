"""The exhibitions' pictures as a IIIF Image API 3.0 service (https://iiif.io/api/image/3.0/), level 1, so deep-zoom
viewers (OpenSeadragon in the app, Mirador anywhere) load tiles instead of the whole picture.

- Identifier: `{exhibition}~{item}` for content/media/exhibitions/{exhibition}/{item}.png (or .jpg/.webp); both
  halves are slugs, so an identifier can name nothing else on disk.
- `info.json`: size, 512 px tiles at scale factors 1, 2, 4, … (until the picture fits one tile), the same scales
  as `sizes`, and `maxWidth`/`maxHeight`.
- Image requests: region `full`, `square`, `x,y,w,h`, `pct:x,y,w,h`; size `max`, `w,`, `,h`, `w,h`, `!w,h`,
  `pct:n` (never larger than the region: no `^`); rotation `0`; quality `default` (or `color`); format `jpg`
  or `webp`. Anything else is 400 with a stable `code` (`iiif_bad_region`, `iiif_bad_size`, …); an unknown
  picture 404 `iiif_not_found`.
- Cutting is Pillow in a worker thread (lib/offload). What the service lists (the tiles of every scale factor,
  the sizes, `full/max`) is cut once, however many ask at once, and kept on disk under
  `CHANGXIANG_MEDIA_CACHE_DIR/iiif/` (all of them at `changxiang load-content`: `make_all_tiles`); other (valid)
  requests are cut each time, so the disk holds at most the listed images.
"""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.lib import offload
from backend.lib.problems import InvalidInput, NotFound

IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
PROFILE = "level1"
TILE = 512
MAX_SIDE = 4096  # no output wider or taller than this (maxWidth / maxHeight)
FORMATS = {"jpg": "image/jpeg", "webp": "image/webp"}
QUALITIES = ("default", "color")
SOURCE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
EXHIBITION_IMAGES = "media/exhibitions"  # under the content directory
MEDIA_PREFIX = "/media/exhibitions/"

_SLUG = r"[a-z0-9][a-z0-9-]{0,79}"
_IDENTIFIER = re.compile(rf"^({_SLUG})~({_SLUG})\Z")
_MEDIA_PATH = re.compile(rf"^/media/exhibitions/({_SLUG})/({_SLUG})\.(?:png|jpe?g|webp)\Z")
_INT = r"(0|[1-9][0-9]{0,5})"
_NUM = r"([0-9]{1,6}(?:\.[0-9]{1,6})?)"
_REGION_PX = re.compile(rf"^{_INT},{_INT},{_INT},{_INT}\Z")
_REGION_PCT = re.compile(rf"^pct:{_NUM},{_NUM},{_NUM},{_NUM}\Z")
_SIZE_WH = re.compile(rf"^(!)?{_INT}?,{_INT}?\Z")
_SIZE_PCT = re.compile(rf"^pct:{_NUM}\Z")


def identifier_for(image: str) -> str | None:
    """The image service identifier of an exhibition item's picture (`/media/exhibitions/a/b.png` → `a~b`),
    or None for a picture the service does not serve."""
    m = _MEDIA_PATH.match(image or "")
    return f"{m[1]}~{m[2]}" if m else None


def service_path(identifier: str) -> str:
    return f"/iiif/{identifier}"


def source_of(content_dir: Path, identifier: str) -> Path:
    """The picture an identifier names, or 404 `iiif_not_found` (a malformed identifier included)."""
    m = _IDENTIFIER.match(identifier)
    if m:
        for suffix in SOURCE_SUFFIXES:
            path = content_dir / EXHIBITION_IMAGES / m[1] / f"{m[2]}{suffix}"
            if path.is_file():
                return path
    raise NotFound("iiif_not_found", f"no image {identifier[:100]!r}")


# ---- the picture's size (read from its header, kept while the file is unchanged)

_sizes: dict[Path, tuple[float, int, int]] = {}


def _read_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def _known_size(path: Path) -> tuple[float, tuple[int, int] | None]:
    """The file's mtime and the size read at that mtime, if it was (a stat: as cheap as `_fresh`'s)."""
    mtime = path.stat().st_mtime
    known = _sizes.get(path)
    return mtime, (known[1], known[2]) if known is not None and known[0] == mtime else None


async def size_of(path: Path) -> tuple[int, int]:
    """(width, height) of a picture, read from its header in a worker thread once per version of the file."""
    mtime, known = _known_size(path)
    if known is None:
        known = await offload.cpu(_read_size, path)
        _sizes[path] = (mtime, *known)
    return known


def scale_factors(width: int, height: int) -> list[int]:
    """1, 2, 4, … until the whole picture fits one tile."""
    factors = [1]
    while max(width, height) / factors[-1] > TILE:
        factors.append(factors[-1] * 2)
    return factors


def _capped(width: int, height: int) -> tuple[int, int]:
    """(width, height) scaled down, keeping the ratio, to fit MAX_SIDE."""
    ratio = min(1.0, MAX_SIDE / width, MAX_SIDE / height)
    return max(1, math.floor(width * ratio)), max(1, math.floor(height * ratio))


def info(base_url: str, identifier: str, width: int, height: int) -> dict[str, Any]:
    """The image's `info.json` (Image API 3.0 §5)."""
    factors = scale_factors(width, height)
    sizes = []
    for factor in reversed(factors):
        w, h = _capped(math.ceil(width / factor), math.ceil(height / factor))
        if {"width": w, "height": h} not in sizes:
            sizes.append({"width": w, "height": h})
    return {
        "@context": IMAGE_CONTEXT,
        "id": base_url + service_path(identifier),
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": PROFILE,
        "width": width,
        "height": height,
        "maxWidth": MAX_SIDE,
        "maxHeight": MAX_SIDE,
        "sizes": sizes,
        "tiles": [{"width": TILE, "height": TILE, "scaleFactors": factors}],
        "extraFormats": ["webp"],
        "extraQualities": ["color"],
        "extraFeatures": ["regionByPct", "sizeByPct", "sizeByConfinedWh", "cors", "jsonldMediaType"],
    }


# ---- parsing an image request (§4)


@dataclass(frozen=True)
class ImageRequest:
    region: tuple[int, int, int, int]  # x, y, w, h in the picture's pixels
    size: tuple[int, int]  # the output's width and height
    format: str  # jpg | webp
    listed: bool  # a tile or size info.json lists (kept on disk)


def _region(text: str, width: int, height: int) -> tuple[int, int, int, int]:
    if text == "full":
        return 0, 0, width, height
    if text == "square":
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    m = _REGION_PX.match(text)
    if m:
        x, y, w, h = (int(v) for v in m.groups())
    else:
        p = _REGION_PCT.match(text)
        if p is None:
            raise InvalidInput("iiif_bad_region", "region must be full, square, x,y,w,h or pct:x,y,w,h")
        px, py, pw, ph = (float(v) for v in p.groups())
        x, y = round(px * width / 100), round(py * height / 100)
        w, h = round(pw * width / 100), round(ph * height / 100)
    if w <= 0 or h <= 0:
        raise InvalidInput("iiif_bad_region", "the region's width and height must be more than 0")
    if x >= width or y >= height:
        raise InvalidInput("iiif_bad_region", f"the region is outside the image ({width}×{height})")
    return x, y, min(w, width - x), min(h, height - y)


def _size(text: str, rw: int, rh: int) -> tuple[int, int]:
    if text.startswith("^"):
        raise InvalidInput("iiif_bad_size", "upscaling (^) is not supported")
    if text == "max":
        return _capped(rw, rh)
    p = _SIZE_PCT.match(text)
    if p:
        pct = float(p[1])
        if not 0 < pct <= 100:
            raise InvalidInput("iiif_bad_size", "pct:n must be more than 0 and at most 100")
        w, h = max(1, round(rw * pct / 100)), max(1, round(rh * pct / 100))
    else:
        m = _SIZE_WH.match(text)
        if m is None or (m[2] is None and m[3] is None):
            raise InvalidInput("iiif_bad_size", "size must be max, w,, ,h, w,h, !w,h or pct:n")
        confined, sw, sh = m[1] == "!", m[2], m[3]
        if confined:
            if sw is None or sh is None:
                raise InvalidInput("iiif_bad_size", "!w,h needs both a width and a height")
            scale = min(int(sw) / rw, int(sh) / rh)
            w, h = max(1, round(rw * scale)), max(1, round(rh * scale))
        elif sh is None:
            w = int(sw)
            h = max(1, round(rh * w / rw))
        elif sw is None:
            h = int(sh)
            w = max(1, round(rw * h / rh))
        else:
            w, h = int(sw), int(sh)
    if w <= 0 or h <= 0:
        raise InvalidInput("iiif_bad_size", "the size's width and height must be more than 0")
    if w > rw or h > rh:
        raise InvalidInput("iiif_bad_size", f"larger than the region ({rw}×{rh}): upscaling is not supported")
    if w > MAX_SIDE or h > MAX_SIDE:
        raise InvalidInput("iiif_bad_size", f"at most {MAX_SIDE} px wide and tall")
    return w, h


def _is_listed(region: tuple[int, int, int, int], size: tuple[int, int], width: int, height: int) -> bool:
    x, y, w, h = region
    if region == (0, 0, width, height):
        return size == _capped(width, height) or any(
            abs(size[0] - math.ceil(width / f)) <= 1 and abs(size[1] - math.ceil(height / f)) <= 1
            for f in scale_factors(width, height)
        )
    for factor in scale_factors(width, height):
        span = TILE * factor
        if x % span == 0 and y % span == 0 and w == min(span, width - x) and h == min(span, height - y):
            return abs(size[0] - math.ceil(w / factor)) <= 1 and abs(size[1] - math.ceil(h / factor)) <= 1
    return False


def parse_request(region: str, size: str, rotation: str, filename: str, width: int, height: int) -> ImageRequest:
    """An image request's parameters against a `width`×`height` picture, or 400 with the parameter's code."""
    quality, dot, fmt = filename.partition(".")
    if not dot:
        raise InvalidInput("iiif_bad_format", "name the format: {quality}.{format}")
    if fmt not in FORMATS:
        raise InvalidInput("iiif_bad_format", f"format must be one of {', '.join(FORMATS)}")
    if quality not in QUALITIES:
        raise InvalidInput("iiif_bad_quality", "quality must be default (or color)")
    if rotation != "0":
        raise InvalidInput("iiif_bad_rotation", "rotation must be 0")
    box = _region(region, width, height)
    out = _size(size, box[2], box[3])
    return ImageRequest(region=box, size=out, format=fmt, listed=_is_listed(box, out, width, height))


# ---- cutting, and the cache on disk


def cut(src: Path, request: ImageRequest) -> bytes:
    """The region of `src`, scaled to the size, encoded (CPU-bound: run through offload.cpu)."""
    from PIL import Image

    x, y, w, h = request.region
    with Image.open(src) as image:
        image.load()
        picture = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").crop((x, y, x + w, y + h))
    if picture.mode == "RGBA":  # JPEG has no alpha: on the page's paper colour
        paper = Image.new("RGB", picture.size, (239, 231, 214))
        paper.paste(picture, mask=picture.getchannel("A"))
        picture = paper
    if picture.size != request.size:
        picture = picture.resize(request.size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if request.format == "webp":
        picture.save(out, "WEBP", quality=80, method=0)
    else:
        picture.save(out, "JPEG", quality=85, optimize=True, progressive=False)
    return out.getvalue()


def cache_path(cache_dir: Path, identifier: str, request: ImageRequest) -> Path:
    x, y, w, h = request.region
    return (
        cache_dir / "iiif" / identifier / f"{x},{y},{w},{h}" / f"{request.size[0]},{request.size[1]}.{request.format}"
    )


def _write(dst: Path, body: bytes) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    tmp.write_bytes(body)
    os.replace(tmp, dst)


def _fresh(src: Path, dst: Path) -> bool:
    return dst.is_file() and dst.stat().st_mtime >= src.stat().st_mtime


def _cut_and_keep(src: Path, request: ImageRequest, dst: Path) -> None:
    _write(dst, cut(src, request))


async def image(src: Path, identifier: str, request: ImageRequest, cache_dir: Path) -> Path | bytes:
    """The image asked for: a file on disk for what info.json lists (cut once, however many ask at once),
    bytes for anything else. Never computed on the event loop."""
    if not request.listed:
        return await offload.cpu(cut, src, request)
    dst = cache_path(cache_dir, identifier, request)
    await offload.make_once(str(dst), lambda: _fresh(src, dst), lambda: offload.cpu(_cut_and_keep, src, request, dst))
    return dst


def listed_requests(width: int, height: int) -> list[ImageRequest]:
    """Every image a `width`×`height` picture's info.json lists: each scale factor's tiles, and its sizes."""
    out = []
    for factor in scale_factors(width, height):
        span = TILE * factor
        for y in range(0, height, span):
            for x in range(0, width, span):
                w, h = min(span, width - x), min(span, height - y)
                out.append(ImageRequest((x, y, w, h), (math.ceil(w / factor), math.ceil(h / factor)), "jpg", True))
        size = _capped(math.ceil(width / factor), math.ceil(height / factor))
        out.append(ImageRequest((0, 0, width, height), size, "jpg", True))
    return list(dict.fromkeys(out))


def make_all_tiles(content_dir: Path, cache_dir: Path) -> int:
    """Every listed tile and size (JPEG) of every exhibition picture that is missing or older than its picture,
    cut by a few threads (at `changxiang load-content`, as the picture variants are); the number made."""
    from concurrent.futures import ThreadPoolExecutor

    root = content_dir / EXHIBITION_IMAGES
    jobs = []
    for src in sorted(root.glob("*/*")) if root.is_dir() else []:
        identifier = f"{src.parent.name}~{src.stem}"
        if src.suffix.lower() not in SOURCE_SUFFIXES or not _IDENTIFIER.match(identifier):
            continue
        width, height = _read_size(src)
        for request in listed_requests(width, height):
            dst = cache_path(cache_dir, identifier, request)
            if not _fresh(src, dst):
                jobs.append((src, request, dst))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        list(pool.map(lambda job: _cut_and_keep(*job), jobs))
    return len(jobs)
