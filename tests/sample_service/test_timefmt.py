"""One home for times: parsing and formatting agree with each other and with the records."""

from __future__ import annotations

import datetime as dt

import pytest

from helpers.sample_service import timefmt

MOMENT = dt.datetime(2025, 6, 5, 10, 47, 1, 24000, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-05T10:47:01.024Z",
        "2025-06-05t10:47:01.024z",
        "2025-06-05T12:47:01.024+02:00",
        "2025-06-05T08:17:01.024-02:30",
        "2025-06-05T10:47:01.0240000009Z",
    ],
)
def test_parse_reads_rfc3339_in_either_case_with_any_offset(text: str) -> None:
    assert timefmt.parse(text) == MOMENT


@pytest.mark.parametrize(
    "text",
    [
        "5 June 2025",
        "2025-06-05",  # a date alone
        "2025-06-05T10:47:01",  # no offset
        " 2025-06-05T10:47:01Z ",  # spaces
        "2025-06-05T10:47:01+0100",  # offset without colon
        "2025-06-05T10:47:50.Z",  # a dot without digits
        "2025-06-05T10:47:01,024Z",  # comma decimals
        "2025-06-05 10:47:01Z",  # space for T (RFC 3339 allows it only as a note)
        "2025-02-30T10:47:01Z",
        "2025-06-05T10:47:01+24:00",
    ],
)
def test_parse_refuses_what_rfc3339_does_not_define(text: str) -> None:
    with pytest.raises(ValueError, match=r"RFC 3339|valid|offset"):
        timefmt.parse(text)


def test_a_leap_second_is_the_next_second() -> None:
    assert timefmt.parse("2016-12-31T23:59:60Z") == dt.datetime(2017, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("digits", "zulu", "text"),
    [
        (6, True, "2025-06-05T10:47:01.024000Z"),
        (3, True, "2025-06-05T10:47:01.024Z"),
        (0, True, "2025-06-05T10:47:01Z"),
        (6, False, "2025-06-05T10:47:01.024000+00:00"),
    ],
)
def test_iso_writes_the_precision_asked_for(digits: int, zulu: bool, text: str) -> None:
    assert timefmt.iso(MOMENT, digits, zulu=zulu) == text
    assert timefmt.parse(text) == MOMENT.replace(microsecond=MOMENT.microsecond if digits else 0)


def test_compact_stamps_round_trip() -> None:
    assert timefmt.compact(MOMENT) == "20250605T104701"
    assert timefmt.parse_compact("20250605T104701") == MOMENT.replace(microsecond=0)
