"""HTTP byte ranges (RFC 9110 section 14) over any stored object: one range, several, or none.

Why this module exists: a sharded Zarr v3 store is read almost only through ranges (the
shard index at the end with a suffix range, then each inner chunk with its own range), so the
service must answer them as an object store does: ``206`` with ``Content-Range`` for one
range, ``206 multipart/byteranges`` for several, ``416`` with ``Content-Range: bytes */size``
when none can be satisfied, ``Accept-Ranges: bytes`` always. aiohttp parses a single range
(``request.http_range``) but neither several nor the multipart answer, so both are here.

Objects are `Blob`\\ s, so a 150 MB shard in the cache is read range by range from its file
and never loaded whole for a range request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
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


async def respond(
    request: web.Request, blob: Blob, content_type: str, chunk_size: int = 1 << 20
) -> web.StreamResponse:
    """Answer a GET or HEAD for ``blob``: 200, 206 (one or several ranges) or 416."""
    size = blob.size
    headers = {"Accept-Ranges": "bytes"}
    try:
        wanted = parse_ranges(request.headers.get("Range"), size)
    except Unsatisfiable:
        headers["Content-Range"] = f"bytes */{size}"
        body = {"code": "RangeNotSatisfiable", "description": f"The object has {size} bytes."}
        return web.json_response(body, status=416, headers=headers)
    if wanted is None:
        return await _stream(request, 200, headers, content_type, size, _pieces(blob, [(0, size)]))
    if len(wanted) == 1:
        start, stop = wanted[0]
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        return await _stream(
            request, 206, headers, content_type, stop - start, _pieces(blob, wanted, chunk_size)
        )
    boundary = uuid.uuid4().hex
    parts = [
        (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{stop - 1}/{size}\r\n\r\n"
        ).encode()
        for start, stop in wanted
    ]
    closing = f"\r\n--{boundary}--\r\n".encode()
    length = sum(len(p) for p in parts) + sum(b - a for a, b in wanted)
    length += 2 * (len(wanted) - 1) + len(closing)

    def body() -> Iterator[bytes]:
        for index, (head, span) in enumerate(zip(parts, wanted, strict=True)):
            yield (b"\r\n" if index else b"") + head
            yield from _pieces(blob, [span], chunk_size)
        yield closing

    multipart = f"multipart/byteranges; boundary={boundary}"
    return await _stream(request, 206, headers, multipart, length, body())


def _pieces(blob: Blob, spans: list[tuple[int, int]], chunk_size: int = 1 << 20) -> Iterator[bytes]:
    for start, stop in spans:
        for offset in range(start, stop, chunk_size):
            yield blob.read(offset, min(offset + chunk_size, stop))


async def _stream(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    content_type: str,
    length: int,
    pieces: Iterator[bytes],
) -> web.StreamResponse:
    """Send ``length`` bytes made by ``pieces`` (nothing for HEAD), without holding them all."""
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = content_type
    response.content_length = length
    await response.prepare(request)
    if request.method != "HEAD":
        for piece in pieces:
            await response.write(piece)
    await response.write_eof()
    return response
