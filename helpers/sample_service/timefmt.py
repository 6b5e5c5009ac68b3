"""Times as the sample service reads and writes them: RFC 3339 text and compact name stamps.

Records, STAC answers, Zarr attributes, scenes and SAFE XML turn the same instants into text;
every conversion is here, so they agree on offsets and precision.
"""

from __future__ import annotations

import datetime as dt
import re

COMPACT = "%Y%m%dT%H%M%S"
"""The stamps in product names: ``20250605T104701``."""

_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:(\d\d)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
)
"""RFC 3339 section 5.6 ``date-time``: ``T``/``Z`` in either case, an offset always present.

`datetime.fromisoformat` reads ISO 8601, which is wider (a date alone, no offset, ``+0100``,
comma decimals), so only text that matches this is handed to it."""


def parse(text: str) -> dt.datetime:
    """An RFC 3339 date-time as an aware datetime; ``ValueError`` if not one.

    Digits past microseconds are dropped; a leap second (``:60``) is read as the next second.
    """
    found = _RFC3339.fullmatch(text)
    if found is None:
        raise ValueError(f"'{text}' is not an RFC 3339 date-time (e.g. 2025-06-05T10:47:01Z)")
    leap = found[1] == "60"
    iso = text[: found.start(1)] + ("59" if leap else found[1]) + text[found.end(1) :]
    try:
        moment = dt.datetime.fromisoformat(iso.upper())
    except ValueError as error:
        raise ValueError(f"'{text}' is not a valid date-time ({error})") from None
    return moment + dt.timedelta(seconds=1) if leap else moment


def parse_date(text: str) -> dt.date | None:
    """``text`` as an RFC 3339 ``full-date`` (``2025-06-05``), or None if it is not one."""
    try:
        return dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d\d-\d\d", text) else None
    except ValueError:
        return None


def parse_compact(stamp: str) -> dt.datetime:
    """A product-name stamp (``20250605T104701``) as an aware UTC datetime."""
    return dt.datetime.strptime(stamp, COMPACT).replace(tzinfo=dt.UTC)


def compact(moment: dt.datetime) -> str:
    """The product-name stamp of ``moment`` (``20250605T104701``)."""
    return moment.strftime(COMPACT)


def iso(moment: dt.datetime, digits: int = 6, *, zulu: bool = True) -> str:
    """``moment`` in UTC as ``2025-06-05T10:47:01.024000Z`` with ``digits`` decimals (0-6).

    ``zulu=False`` writes the offset as ``+00:00`` (as some EOPF attributes do).
    """
    text = moment.astimezone(dt.UTC).isoformat(timespec="microseconds")[: 20 + digits]
    return text.rstrip(".") + ("Z" if zulu else "+00:00")
