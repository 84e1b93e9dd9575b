"""Languages: `?lang=zh|en`, else Accept-Language, else zh. Localised values fall back to zh."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request

from backend.lib.problems import InvalidInput

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"


def parse_accept_language(header: str | None) -> Lang:
    """Pick the best of our languages from an Accept-Language header (q-values honoured)."""
    if not header:
        return DEFAULT_LANG
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        candidate = (q, -position, primary)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else DEFAULT_LANG


def request_lang(request: Request[Any, Any, Any], lang: str | None) -> Lang:
    if lang is not None:
        if lang not in LANGS:
            raise InvalidInput("invalid_lang", "lang must be zh or en", field="lang")
        return lang  # narrowed to Lang by `in LANGS`
    return parse_accept_language(request.headers.get("accept-language"))


def pick(zh: str | None, en: str | None, lang: Lang) -> str:
    """The value in `lang`, falling back to Chinese (the city's language) when missing."""
    if lang == "en" and en:
        return en
    return zh or en or ""
