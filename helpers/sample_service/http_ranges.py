"""HTTP byte ranges (RFC 9110 section 14) over any stored object: one range, several, or none.

Why this module exists: a sharded Zarr v3 store is read almost only through ranges (the
shard index at the end with a suffix range, then each inner chunk with its own range), so the
service must answer them as an object store does: ``206`` with ``Content-Range`` for one
range, ``206 multipart/byteranges`` for several, ``416`` with ``Content-Range: bytes */size``
when none can be satisfied, ``Accept-Ranges: bytes`` always. aiohttp parses a single range
(``request.http_range``) but neither several nor the multipart answer, so both are here.

Objects are blobs (`Blob`), so a 150 MB shard in the cache is read range by range from its file
and never loaded whole for a range request.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

_UNIT = re.compile(r"\s*bytes\s*=\s*(.+)", re.IGNORECASE)
_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")
MAX_RANGES = 64
"""More ranges than this in one request are answered with the whole object (RFC 9110 lets a
server ignore a Range it finds abusive)."""


class Blob(Protocol):
    """A stored object: its size, and any slice of its bytes."""

    @property
    def size(self) -> int: ...

    def read(self, start: int, stop: int) -> bytes: ...


@dataclass(frozen=True)
class BytesBlob:
    """An object held in memory (metadata documents, small chunks)."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, start: int, stop: int) -> bytes:
        return self.data[start:stop]


class Unsatisfiable(Exception):
    """No range of the header lies inside the object (answered 416)."""


def parse_ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The ``(start, stop)`` byte ranges a ``Range`` header asks of an object of ``size`` bytes.

    None means "send the whole object": no header, another unit, a malformed header (RFC 9110
    says to ignore it) or too many ranges. Ranges past the end are clipped; ranges that start
    past the end are dropped, and `Unsatisfiable` is raised when none is left.
    """
    if not header:
        return None
    match = _UNIT.fullmatch(header)
    if match is None:
        return None
    specs = match.group(1).split(",")
    if len(specs) > MAX_RANGES:
        return None
    wanted: list[tuple[int, int]] = []
    for spec in specs:
        parts = _SPEC.fullmatch(spec)
        if parts is None or parts.group(1) == parts.group(2) == "":
            return None
        first, last = parts.group(1), parts.group(2)
        if first == "":  # suffix range: the last N bytes
            length = int(last)
            if length == 0:
                continue
            wanted.append((max(0, size - length), size))
            continue
        start = int(first)
        stop = size if last == "" else int(last) + 1
        if last != "" and stop <= start:
            return None  # last < first: the whole header is invalid
        if start < size:
            wanted.append((start, min(stop, size)))
    if not wanted:
        raise Unsatisfiable
    return wanted


def respond(request: web.Request, blob: Blob, content_type: str) -> web.Response:
    """Answer a GET or HEAD for ``blob``: 200, 206 (one or several ranges) or 416.

    The answer is built, not streamed, so that the fault middleware (`faults`) can pace or
    cut its body like any other: only the bytes asked for are read from the blob.
    """
    size = blob.size
    headers = {"Accept-Ranges": "bytes"}
    try:
        wanted = parse_ranges(request.headers.get("Range"), size)
    except Unsatisfiable:
        return not_satisfiable(size)
    if wanted is None:
        return web.Response(body=blob.read(0, size), content_type=content_type, headers=headers)
    if len(wanted) == 1:
        start, stop = wanted[0]
        headers.update(partial_headers(start, stop, size))
        body = blob.read(start, stop)
        return web.Response(status=206, body=body, content_type=content_type, headers=headers)
    boundary = uuid.uuid4().hex
    parts = []
    for start, stop in wanted:
        head = (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{stop - 1}/{size}\r\n\r\n"
        )
        parts.append(head.encode() + blob.read(start, stop))
    body = b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
    return web.Response(status=206, body=body, headers=headers)


def single_range(
    request: web.Request, size: int, etag: str | None = None
) -> tuple[int, int] | None:
    """``(start, stop)`` of the one range asked for, or None to send all ``size`` bytes.

    For answers streamed from a file (the SAFE download), which serve one range at most:
    several ranges get the whole object, as RFC 9110 allows. ``If-Range`` is honoured: when
    its validator is not ``etag`` (the object's current entity tag, quoted), the whole object
    is sent, so a resuming client never splices bytes of two different objects. Raises
    `Unsatisfiable` when the range lies wholly past the end.
    """
    if_range = request.headers.get("If-Range")
    if if_range is not None and (etag is None or if_range.strip() != etag):
        return None
    wanted = parse_ranges(request.headers.get("Range"), size)
    return wanted[0] if wanted is not None and len(wanted) == 1 else None


def partial_headers(start: int, stop: int, size: int) -> dict[str, str]:
    """The headers of a 206 answer carrying bytes ``start`` to ``stop - 1`` of ``size``."""
    return {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{stop - 1}/{size}"}


def not_satisfiable(size: int) -> web.Response:
    """The 416 answer: the service's JSON error, with the object's size in ``Content-Range``."""
    headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes */{size}"}
    body = {"code": "RangeNotSatisfiable", "description": f"The object has {size} bytes."}
    return web.json_response(body, status=416, headers=headers)
