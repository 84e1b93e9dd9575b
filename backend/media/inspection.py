"""What an uploaded file really is, judged by its content (never its name or declared type), and the
copy we keep of it: images decoded and re-encoded by Pillow without EXIF, GPS, XMP or ICC metadata (the
orientation applied to the pixels first); voice notes parsed by mutagen (pure Python: AAC in ADTS or MP4,
Ogg Opus, MP3) for their length, their tags removed. CPU work: callers run these through lib/offload.

Refusals are `DomainError`s: 415 `unsupported_file_type`, 413 `file_too_large`, 400 `invalid_image`,
`invalid_audio`, `audio_too_long`."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from mutagen import FileType, MutagenError
from mutagen.aac import AAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.lib.problems import DomainError, InvalidInput

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_AUDIO_BYTES = 5 * 1024 * 1024
MAX_AUDIO_S = 120.0
MAX_PIXELS = 40_000_000  # a 5 MB file may still decode to gigabytes (a "decompression bomb")
MAX_SIDE = 4096  # what we keep: a phone photo, scaled down if larger

IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
AUDIO_TYPES = ("audio/aac", "audio/mp4", "audio/ogg", "audio/mpeg")


class UnsupportedType(DomainError):
    status = 415


class TooLarge(DomainError):
    status = 413


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    content_type: str
    kind: str  # image | audio
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


def sniff(data: bytes) -> str | None:
    """The media type the first bytes say, among those we accept; None for anything else (HTML, PDF…)."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"OggS" and b"OpusHead" in head:
        return "audio/ogg"
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    if head[:3] == b"ID3":
        return "audio/mpeg"  # MP3 (or AAC) behind an ID3 tag: mutagen decides below
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "audio/aac" if (head[1] & 0x06) == 0 else "audio/mpeg"  # ADTS has layer 00, MP3 01
    return None


def clean(data: bytes) -> Cleaned:
    kind = sniff(data)
    if kind is None:
        raise UnsupportedType("unsupported_file_type", "photos must be JPEG, PNG or WebP, voice notes AAC, Opus or MP3")
    if kind in IMAGE_FORMATS:
        if len(data) > MAX_IMAGE_BYTES:
            raise TooLarge("file_too_large", f"images are at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
        return _clean_image(data, kind)
    if len(data) > MAX_AUDIO_BYTES:
        raise TooLarge("file_too_large", f"voice notes are at most {MAX_AUDIO_BYTES // (1024 * 1024)} MB")
    return _clean_audio(data, kind)


def _clean_image(data: bytes, kind: str) -> Cleaned:
    fmt = IMAGE_FORMATS[kind]
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidInput("invalid_image", "the image has too many pixels", field="file")
            probe.load()
            image = ImageOps.exif_transpose(probe)  # the phone's rotation, applied to the pixels
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput("invalid_image", "the image could not be read", field="file") from None
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    elif fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
    image.info = {}  # nothing of the original's metadata is carried over
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return Cleaned(out.getvalue(), kind, "image", width=image.width, height=image.height)


def _clean_audio(data: bytes, kind: str) -> Cleaned:
    parsers: dict[str, tuple[tuple[type[FileType], str], ...]] = {
        "audio/ogg": ((OggOpus, "audio/ogg"),),
        "audio/mp4": ((MP4, "audio/mp4"),),
        "audio/aac": ((AAC, "audio/aac"),),
        "audio/mpeg": ((MP3, "audio/mpeg"), (AAC, "audio/aac")),
    }
    buffer = io.BytesIO(data)
    for parser, content_type in parsers[kind]:
        buffer.seek(0)
        try:
            audio = parser(buffer)
        except (MutagenError, ValueError, IndexError, struct.error):
            continue
        length = float(getattr(audio.info, "length", 0.0) or 0.0)
        if length <= 0:
            continue
        if isinstance(audio, MP4) and not _mp4_is_audio(audio):
            continue
        if length > MAX_AUDIO_S:
            raise InvalidInput(
                "audio_too_long", f"voice notes are at most {int(MAX_AUDIO_S // 60)} minutes", field="file"
            )
        return Cleaned(_without_tags(data, parser), content_type, "audio", duration_s=round(length, 2))
    raise InvalidInput("invalid_audio", "the voice note could not be read", field="file")


def _mp4_is_audio(audio: MP4) -> bool:
    """An MP4 voice note has an audio codec (AAC) and no video."""
    codec = str(getattr(audio.info, "codec", ""))
    return codec.startswith("mp4a")


def _without_tags(data: bytes, parser: type[FileType]) -> bytes:
    """The file with its tags (ID3, Vorbis comments, MP4 metadata: titles, places, devices) removed; the
    bytes as they came where the format has none to remove."""
    buffer = io.BytesIO(data)
    try:
        parser(buffer).delete(buffer)
    except (MutagenError, ValueError, NotImplementedError, AttributeError, TypeError):
        return data
    return buffer.getvalue()
