"""Files for the upload tests, made here: a phone photo with GPS in its EXIF, silent MP3 voice notes."""

from __future__ import annotations

import io
import random

from PIL import Image

GPS_IFD = 0x8825


def photo_with_gps(size: tuple[int, int] = (64, 48), fmt: str = "JPEG", noise: bool = False) -> bytes:
    if noise:
        rnd = random.Random(7)
        image = Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # rotated: the stored copy has it applied to the pixels
    exif[GPS_IFD] = {1: "N", 2: (31.0, 46.0, 12.0), 3: "E", 4: (119.0, 57.0, 1.0)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def mp3(seconds: float) -> bytes:
    """MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, 1152 samples each) of silence, behind an ID3 tag."""
    frame = bytes([0xFF, 0xFB, 0x90, 0x64]) + b"\x00" * 413
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x15" + b"TIT2\x00\x00\x00\x0b\x00\x00\x00" + b"Home addr"
    return tag + frame * (int(seconds * 44100 / 1152) + 1)


async def upload(client, who: dict, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return await client.post("/api/v1/uploads", headers=who["headers"], files={"file": (name, data, content_type)})
