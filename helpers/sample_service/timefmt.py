"""Times as the sample service reads and writes them: RFC 3339 text and compact name stamps.

Why one module: the records, the STAC answers, the Zarr attributes, the scenes and the SAFE
XML all turn the same instants into text, and each used to do it its own way (five parsers
and formatters that disagreed on offsets and precision). Every conversion is here.
"""

from __future__ import annotations

import datetime as dt

COMPACT = "%Y%m%dT%H%M%S"
"""The stamps in product names: ``20250605T104701``."""


def parse(text: str) -> dt.datetime:
    """An RFC 3339 / ISO 8601 date-time as an aware UTC-based datetime.

    ``Z`` or a numeric offset; a time without an offset is read as UTC. Raises
    ``ValueError`` for anything else (callers turn it into their own error).
    """
    moment = dt.datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


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
