"""One home for times: parsing and formatting agree with each other and with the records."""

from __future__ import annotations

import datetime as dt

import pytest

from helpers.sample_service import timefmt

MOMENT = dt.datetime(2025, 6, 5, 10, 47, 1, 24000, tzinfo=dt.UTC)


def test_parse_reads_zulu_offsets_and_naive_times_as_utc() -> None:
    assert timefmt.parse("2025-06-05T10:47:01.024Z") == MOMENT
    assert timefmt.parse("2025-06-05T12:47:01.024+02:00") == MOMENT
    assert timefmt.parse(" 2025-06-05T10:47:01.024 ") == MOMENT
    with pytest.raises(ValueError):
        timefmt.parse("5 June 2025")


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
