"""Online shows (云演艺): recorded performances as HLS, watched through signed, short-lived URLs.

`GET /shows/{slug}` gives a stream URL to whoever may watch: everyone for a free show, and for a paid one
a signed-in visitor holding a confirmed ticket for a performance of the show's event. The URL is
`/api/v1/shows/{slug}/hls/index.m3u8?exp=<unix s>&sig=<HMAC-SHA256>`; the playlist is answered with each
segment's URI signed the same way, and every file is refused (401 `stream_expired` / `stream_signature_invalid`)
once the time has passed or the signature does not match. Files live in content/shows/<slug>/, never under
/media.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Any

import anyio

from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.i18n import Lang, pick
from backend.lib.problems import DomainError, NotFound
from backend.reservations.tables import Reservation
from backend.settings import get_settings
from backend.tickets.schemas import ShowOut, ShowStream
from backend.tickets.tables import Performance, Show

STREAM_TTL_S = 600
_FILE = re.compile(r"^(index\.m3u8|seg\d{3}\.ts)$")


class StreamRefused(DomainError):
    status = 401


def _sign(slug: str, exp: int) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"show-stream|{slug}|{exp}".encode(), hashlib.sha256).hexdigest()


def signed_url(slug: str, exp: int, name: str = "index.m3u8") -> str:
    return f"/api/v1/shows/{slug}/hls/{name}?exp={exp}&sig={_sign(slug, exp)}"


async def _holder(user: AuthUser | None, show: dict[str, Any]) -> bool:
    if user is None or show["event_slug"] is None:
        return False
    slots = Performance.select(Performance.slot_id).where(Performance.event_slug == show["event_slug"])
    return bool(
        await Reservation.exists().where(
            (Reservation.user_id == user.id) & (Reservation.status == "confirmed") & Reservation.slot.is_in(slots)
        )
    )


def _out(row: dict[str, Any], lang: Lang) -> ShowOut:
    return ShowOut(
        slug=row["slug"],
        title=pick(row["title_zh"], row["title_en"], lang),
        summary=pick(row["summary_zh"], row["summary_en"], lang),
        price_fen=row["price_fen"],
        currency="CNY",
        duration_s=row["duration_s"],
        free=row["price_fen"] == 0,
        event_slug=row["event_slug"],
        venue_slug=row["venue_slug"],
        poster=row["poster"],
    )


async def list_shows(lang: Lang) -> list[ShowOut]:
    return [_out(r, lang) for r in await Show.select().order_by(Show.slug)]


async def show(slug: str, user: AuthUser | None, lang: Lang) -> ShowOut:
    row = await Show.select().where(Show.slug == slug).first()
    if row is None:
        raise NotFound("show_not_found", f"no show {slug!r}")
    out = _out(row, lang)
    if row["price_fen"] == 0:
        out.access = "free"
    elif await _holder(user, row):
        out.access = "holder"
    else:
        out.access = "sign_in" if user is None else "ticket_required"
        return out
    exp = int(clock.time()) + STREAM_TTL_S
    out.stream = ShowStream(hls_url=signed_url(slug, exp), expires_at=datetime.fromtimestamp(exp, CITY_TZ))
    return out


async def stream_file(slug: str, name: str, exp: int, sig: str) -> tuple[bytes, str]:
    """A playlist (its segments' URIs signed) or a segment, if the signature holds and has not expired."""
    if not _FILE.match(name) or not re.fullmatch(r"[a-z0-9-]{1,80}", slug):
        raise NotFound("show_not_found", "no such file")
    if not hmac.compare_digest(_sign(slug, exp), sig):
        raise StreamRefused("stream_signature_invalid", "this stream address is not valid")
    if exp < clock.time():
        raise StreamRefused("stream_expired", "this stream address has expired: open the show again")
    path = anyio.Path(get_settings().content_dir / "shows" / slug / name)
    if not await path.is_file():
        raise NotFound("show_not_found", "no such file")
    if name.endswith(".m3u8"):
        lines = []
        for line in (await path.read_text(encoding="utf-8")).splitlines():
            if line and not line.startswith("#"):
                line = f"{line}?exp={exp}&sig={sig}"
            lines.append(line)
        return ("\n".join(lines) + "\n").encode(), "application/vnd.apple.mpegurl"
    return await path.read_bytes(), "video/mp2t"
