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
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
"""RFC 3339 section 5.6 ``date-time``: ``T``/``Z`` in either case, an offset always present."""


def parse(text: str) -> dt.datetime:
    """An RFC 3339 date-time (section 5.6) as an aware datetime; ``ValueError`` if not one.

    Not `datetime.fromisoformat`: ISO 8601 is wider (a date alone, no offset, ``+0100``, comma
    decimals) and STAC asks for RFC 3339 exactly. Digits past microseconds are dropped; a leap
    second (``:60``) is read as the next second.
    """
    found = _RFC3339.fullmatch(text)
    if found is None:
        raise ValueError(f"'{text}' is not an RFC 3339 date-time (e.g. 2025-06-05T10:47:01Z)")
    year, month, day, hour, minute, second = (int(found[i]) for i in range(1, 7))
    micro = int((found[7] or "0")[:6].ljust(6, "0"))
    offset = dt.timedelta(0)
    if found[9]:
        hours, minutes = int(found[10]), int(found[11])
        if hours > 23 or minutes > 59:
            raise ValueError(f"'{text}' has an offset out of range")
        offset = (1 if found[9] == "+" else -1) * dt.timedelta(hours=hours, minutes=minutes)
    leap = second == 60
    try:
        moment = dt.datetime(
            year, month, day, hour, minute, 59 if leap else second, micro, dt.timezone(offset)
        )
    except ValueError as error:
        raise ValueError(f"'{text}' is not a valid date-time ({error})") from None
    return moment + dt.timedelta(seconds=1) if leap else moment


def parse_date(text: str) -> dt.date | None:
    """``text`` as an RFC 3339 ``full-date`` (``2025-06-05``), or None if it is not one."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is None:
        return None
    try:
        return dt.date.fromisoformat(text)
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
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    text = text[: 20 + digits] if digits else text[:19]
    return text + ("Z" if zulu else "+00:00")
