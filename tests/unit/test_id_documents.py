from datetime import date

import pytest

from backend.lib.i18n import parse_accept_language
from backend.lib.id_documents import is_valid_id_number, is_valid_resident_id, resident_id_check_char


def test_known_valid_resident_id():
    # the check-character example of GB 11643-1999
    assert resident_id_check_char("11010519491231002") == "X"
    assert is_valid_resident_id("11010519491231002X")


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check character
        "11010519491331002X",  # month 13
        "11010520990101002X",  # born in the future
        "99010519491231002X",  # no such province
        "1101051949123100",  # too short
        "11010519491231002x",  # lower-case x is normalised before, not here
    ],
)
def test_invalid_resident_ids(number):
    assert not is_valid_resident_id(number, today=date(2026, 11, 24))


@pytest.mark.parametrize(
    ("kind", "number", "ok"),
    [
        ("passport", "E12345678", True),
        ("passport", "AB12", False),
        ("hk_macau_permit", "H12345678", True),
        ("hk_macau_permit", "M1234567890", True),
        ("hk_macau_permit", "C12345678", False),
        ("taiwan_permit", "12345678", True),
        ("taiwan_permit", "1234567", False),
        ("military_id", "12345678", False),
    ],
)
def test_document_shapes(kind, number, ok):
    assert is_valid_id_number(kind, number) is ok


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "zh"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("fr-FR, en;q=0.5", "en"),
        ("en;q=0.2, zh;q=0.8", "zh"),
        ("de", "zh"),
        ("en;q=0", "zh"),
    ],
)
def test_accept_language(header, lang):
    assert parse_accept_language(header) == lang
