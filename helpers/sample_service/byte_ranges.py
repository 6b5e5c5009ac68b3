"""Single byte ranges (RFC 9110, section 14): the part of an answer a client asked for.

Why this module exists: two routes answer ``Range`` requests, the Zarr keys (fsspec may ask
for part of a chunk) and the SAFE download (a client resumes a broken download from the byte
it had reached). Both need the same reading of the header and the same 416 answer, so it is
written once here. aiohttp parses the header (``request.http_range``); this module turns its
slice into what to send.

Only a single range is served; a malformed or multi-range header is ignored and the whole
object sent, as RFC 9110 allows. ``If-Range`` is honoured: when the validator it carries is
not the object's current ETag, the whole object is sent, so a client never splices bytes of
two different objects.
"""

from __future__ import annotations

from aiohttp import web

RANGE_NOT_SATISFIABLE = "RangeNotSatisfiable"


class NotSatisfiable(Exception):
    """The range starts at or beyond the end of the object."""

    def __init__(self, size: int) -> None:
        super().__init__(f"The object has {size} bytes.")
        self.size = size


def requested(request: web.Request, size: int, etag: str | None = None) -> tuple[int, int] | None:
    """``(start, stop)`` of the single range asked for, or None to send all ``size`` bytes.

    ``etag`` is the object's current entity tag (quoted), checked against ``If-Range``.
    Raises `NotSatisfiable` when the range lies wholly past the end.
    """
    if_range = request.headers.get("If-Range")
    if if_range is not None and (etag is None or if_range.strip() != etag):
        return None
    try:
        wanted = request.http_range
    except ValueError:  # malformed or multi-range: ignored
        return None
    if wanted.start is None and wanted.stop is None:
        return None
    start = wanted.start if wanted.start >= 0 else max(0, size + wanted.start)
    stop = size if wanted.stop is None else min(wanted.stop, size)
    if start >= size or start >= stop:
        raise NotSatisfiable(size)
    return start, stop


def partial_headers(start: int, stop: int, size: int) -> dict[str, str]:
    """The headers of a 206 answer carrying bytes ``start`` to ``stop - 1`` of ``size``."""
    return {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{stop - 1}/{size}"}


def not_satisfiable(error: NotSatisfiable) -> web.Response:
    """The 416 answer: the service's JSON error, with the object's size in ``Content-Range``."""
    headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes */{error.size}"}
    body = {"code": RANGE_NOT_SATISFIABLE, "description": str(error)}
    return web.json_response(body, status=416, headers=headers)
