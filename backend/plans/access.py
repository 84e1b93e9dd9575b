"""Step-free access, read from a venue's accessibility text (content/venues.toml, `accessibility`).

The content gives accessibility as a sentence in Chinese and English, not as a flag. The planner reads it
in OpenStreetMap's `wheelchair=*` terms: `yes` (the visit is step-free: a level or ramped entrance, lifts,
nothing said of steps), `limited` (step-free in part: steps, thresholds or stairs are mentioned too) and
`no` (only obstacles are mentioned). `step_free=true` plans only `yes` places; a place with no text is
unknown and left out as well. The phrases are matched on the English text (every venue has one), with
the Chinese text as the fallback, and are listed here so an editor can see why a venue reads as it does.
"""

from __future__ import annotations

import re
from typing import Literal

Wheelchair = Literal["yes", "limited", "no", "unknown"]

_STEP_FREE_EN = re.compile(
    r"step-free|stepfree|ramp|lift|elevator|\blevel\b|wheelchair seating|wheelchair[- ]friendly|paved|"
    r"ground-floor|ground floor|single-storey|\baccessible\b"
)
_OBSTACLE_EN = re.compile(
    r"\bsteps?\b(?!-free)|stepped|stair|threshold|gravel|unsurfaced|slope|steep|difficult for wheelchairs|"
    r"no lift|narrow|varies|at some"
)
_BLOCKED_EN = re.compile(r"difficult for wheelchairs|built on a slope|no lift")
_STEP_FREE_ZH = re.compile(r"无台阶|坡道|电梯|平坦|平缓|平整|无障碍")
_OBSTACLE_ZH = re.compile(r"台阶|门槛|楼梯|阶梯|碎石|陡|不便")


def wheelchair_access(text_en: str, text_zh: str = "") -> Wheelchair:
    """`yes`, `limited`, `no` or `unknown`, from the accessibility sentence (rules: the module's docstring)."""
    en = (text_en or "").lower()
    if en.strip():
        good, bad = bool(_STEP_FREE_EN.search(en)), bool(_OBSTACLE_EN.search(en))
        blocked = bool(_BLOCKED_EN.search(en))
    elif (text_zh or "").strip():
        good, bad, blocked = bool(_STEP_FREE_ZH.search(text_zh)), bool(_OBSTACLE_ZH.search(text_zh)), False
    else:
        return "unknown"
    if blocked or (bad and not good):
        return "no"
    if good and bad:
        return "limited"
    return "yes" if good else "unknown"


def is_step_free(text_en: str, text_zh: str = "") -> bool:
    return wheelchair_access(text_en, text_zh) == "yes"
