"""Links and media references that come from content (an event's or article's image, an exhibition's
rights statement, a tour's pictures…): the one rule every write path applies — content files, the
publishing API, and anything else that stores them.

Allowed: an absolute `https:` URL (a host name, an optional port, then a path without spaces, quotes
or angle brackets), or a site-relative `/media/…` path (no `..`, no `//`). Everything else is refused:
`javascript:`, `data:`, `vbscript:`, `http:` (mixed content; a network in the way can rewrite it),
protocol-relative `//host`, backslashes, control characters. The PWA applies the same rule again
before it renders a link (pwa/src/links.js), for rows stored before this rule existed.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

MAX_URL_LENGTH = 300
_PATH_CHARS = r"[^\s\x00-\x1f\x7f\\<>\"'`]"
SAFE_URL_PATTERN = (
    r"^(?:https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#]" + _PATH_CHARS + r"*)?"
    r"|/media/(?!/)(?!.*(?:\.\.|//))[A-Za-z0-9._~/%-]+)\Z"
)
_SAFE_URL = re.compile(SAFE_URL_PATTERN)

SafeUrl = Annotated[str, msgspec.Meta(pattern=SAFE_URL_PATTERN, max_length=MAX_URL_LENGTH)]
"""A msgspec field type: decoding refuses any other value (400 `validation_error`, field named)."""


def is_safe_url(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_URL_LENGTH and _SAFE_URL.match(value) is not None


def safe_or_none(value: str | None) -> str | None:
    """For reading rows stored before the rule: a value that breaks it is not handed out."""
    return value if is_safe_url(value) else None
