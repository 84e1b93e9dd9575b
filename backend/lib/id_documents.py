"""Identity documents accepted for real-name booking, and their checks.

- `resident_id`: the 18-character mainland resident identity number (GB 11643-1999): a province
  code, a real birth date, and the ISO 7064 MOD 11-2 check character.
- `passport`: 5–17 letters and digits (Chinese passports are E/G + 8 digits; foreign ones vary).
- `hk_macau_permit`: 港澳居民来往内地通行证, H or M + 8 or 10 digits.
- `taiwan_permit`: 台湾居民来往大陆通行证, 8 or 10 digits.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from backend.lib.clock import clock

IdType = Literal["resident_id", "passport", "hk_macau_permit", "taiwan_permit"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PROVINCES = {
    11,
    12,
    13,
    14,
    15,
    21,
    22,
    23,
    31,
    32,
    33,
    34,
    35,
    36,
    37,
    41,
    42,
    43,
    44,
    45,
    46,
    50,
    51,
    52,
    53,
    54,
    61,
    62,
    63,
    64,
    65,
    71,
    81,
    82,
    83,
    91,
}
_SHAPES = {
    "passport": re.compile(r"^[A-Z0-9]{5,17}$"),
    "hk_macau_permit": re.compile(r"^[HM](\d{8}|\d{10})$"),
    "taiwan_permit": re.compile(r"^(\d{8}|\d{10})$"),
}


def normalise_id_number(number: str) -> str:
    return re.sub(r"[\s-]", "", number).upper()


def resident_id_check_char(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_valid_resident_id(number: str, today: date | None = None) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    if int(number[:2]) not in _PROVINCES:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not (date(1900, 1, 1) <= born <= (today or clock.city_today())):
        return False
    return resident_id_check_char(number[:17]) == number[17]


def is_valid_id_number(id_type: str, number: str) -> bool:
    if id_type == "resident_id":
        return is_valid_resident_id(number)
    shape = _SHAPES.get(id_type)
    return bool(shape and shape.match(number))
