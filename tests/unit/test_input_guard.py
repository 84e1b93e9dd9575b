"""The request edge's checks and the bounds they use, value by value (the routes: tests/api/test_no_500s.py)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
from litestar import get

from backend.lib.bounds import within_calendar
from backend.lib.input_guard import MAX_DEPTH, check_body, check_query, check_url
from backend.lib.problems import InvalidInput, refused_input


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"a": "\xff"}', "invalid_body"),
        (b'{"a": "x\\u0000y"}', "invalid_text"),
        (b'{"a\\u0000": 1}', "invalid_text"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "invalid_body"),
        (b"[" * 5000 + b"]" * 5000, "invalid_body"),
        (b'{"day": "0001-01-01"}', "date_out_of_range"),
        (b'{"at": ["9999-12-31T23:59:59+08:00"]}', "date_out_of_range"),
        (b'{"at": "+10000-01-01"}', "date_out_of_range"),
        (b'{"n": 9223372036854775808}', "out_of_range"),
        (b'{"n": -9223372036854775809}', "out_of_range"),
    ],
)
def test_bodies_that_cant_be_stored_are_refused(body, code):
    with pytest.raises(InvalidInput) as refused:
        check_body(body, "application/json")
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"day": "2026-07-01", "at": "2200-12-31T23:59:59-12:00", "n": 9223372036854775807}', "application/json"),
        (b'{"note": "0001-01-01 was a Monday, they say"}', "application/json"),  # text that merely starts so
        (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, "application/json"),
        (b"not json at all", "application/json"),  # left to the handler's validation
        ('<?xml version="1.0" encoding="GB18030"?><a>预警</a>'.encode("gb18030"), "application/cap+xml"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        ("中文".encode("gb18030"), "text/plain; charset=gb18030"),
    ],
)
def test_bodies_we_can_store_pass(body, content_type):
    check_body(body, content_type)


def test_dates_are_kept_inside_the_calendar():
    assert within_calendar(date(2026, 7, 1), "day") == date(2026, 7, 1)
    east = datetime(2200, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12)))
    assert within_calendar(east, "at") is east
    for far in (date(1, 1, 1), date(9999, 12, 31), datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=8)))):
        with pytest.raises(InvalidInput) as refused:
            within_calendar(far, "at")
        assert refused.value.code == "date_out_of_range" and refused.value.extra["field"] == "at"


def test_the_last_line_knows_what_the_input_caused():
    assert refused_input(OverflowError("date value out of range")) == "out_of_range"
    assert refused_input(ValueError("year 10000 is out of range")) == "out_of_range"
    assert refused_input(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")) == "invalid_text"

    class DataError(Exception):  # asyncpg's family, by name: only lib/db imports the driver
        pass

    class CharacterNotInRepertoireError(DataError):
        pass

    assert refused_input(DataError("value out of int32 range")) == "out_of_range"
    assert refused_input(CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00")) == (
        "invalid_text"
    )
    assert refused_input(KeyError("live")) is None
    assert refused_input(ValueError("something else")) is None


@get("/probe", sync_to_thread=False)
def _probe(limit: int = 10, near: str = "") -> None:
    """A route with an integer query parameter, as `check_url` sees it after routing."""


def _query_scope(query: bytes) -> dict[str, object]:
    return {
        "type": "http",
        "path": "/probe",
        "raw_path": b"/probe",
        "query_string": query,
        "route_handler": _probe,
    }


@pytest.mark.parametrize(
    "query",
    [
        b"day=0001-01-01",
        b"from=9999-12-31T23:59:59%2B08:00",
        b"at=%2B10000-01-01",
        b"q=%00",
        b"q=\x00",
        b"q=%FF",
        b"limit=2147483648",
        b"limit=-2147483649",
        b"limit=%2B99999999999",
    ],
)
def test_a_query_that_can_be_refused_is_never_waved_through(query):
    with pytest.raises(InvalidInput):
        check_url(_query_scope(query))


def test_the_plain_query_shortcut_refuses_exactly_what_the_full_check_refuses():
    """Random queries from an alphabet rich in what is refused: the shortcut in `check_url` (plain ASCII,
    no %-escape, no year before a dash, no ten digits: not decoded at all) never lets through what the
    full check (`check_query`) refuses."""
    rng = random.Random(22)
    pieces = ["0", "1", "9", "2026", "-", "+", ",", ".", "=", "&", "limit", "near", "day", "T", ":", "%00",
              "%2B", "%FF", "%E5%B8%B8", "\xe5", "0001", "10000", "2147483648", "_", "a"]  # fmt: skip
    refusals = 0
    for _ in range(5000):
        query = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))).encode("latin-1")
        try:
            check_query(query, frozenset({"limit"}))
            refused = False
        except InvalidInput:
            refused, refusals = True, refusals + 1
        try:
            check_url(_query_scope(query))
            assert not refused, query
        except InvalidInput:
            assert refused, query
    assert refusals > 500  # the alphabet does reach the refusals
