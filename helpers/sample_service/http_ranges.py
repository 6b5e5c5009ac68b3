"""HTTP byte ranges (RFC 9110 section 14) over any stored object: one range, several, or none.

A sharded Zarr v3 store is read almost only by ranges, and a broken SAFE download resumes by
one, so the service answers as an object store does: ``206`` with ``Content-Range`` (several
ranges: ``multipart/byteranges``), ``416`` with ``Content-Range: bytes */size``, ``If-Range``
against the ``ETag``. aiohttp parses a single range only, hence this module. Only the bytes asked
for are read, and long answers are streamed block by block, never held whole in memory.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from . import faults

_UNIT = re.compile(r"\s*bytes\s*=\s*(.+)", re.IGNORECASE)
_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")
MAX_RANGES = 64
"""More ranges than this in one request are answered with the whole object (RFC 9110 lets a
server ignore a Range it finds abusive)."""
BLOCK = 1 << 20
"""Longer answers are streamed in blocks of this size; shorter ones are built whole (for the
fault middleware to pace or cut)."""


class Blob(Protocol):
    """A stored object: its size, and any slice of its bytes (`cache.StoredFile`, `BytesBlob`)."""

    @property
    def size(self) -> int: ...

    def read_range(self, start: int, stop: int) -> bytes: ...


@dataclass(frozen=True)
class BytesBlob:
    """An object held in memory (metadata documents, chunks, multipart headers)."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def read_range(self, start: int, stop: int) -> bytes:
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


Piece = tuple[Blob, int, int]


async def respond(
    request: web.Request,
    blob: Blob,
    content_type: str,
    *,
    headers: Mapping[str, str] | None = None,
    etag: str | None = None,
    several: bool = True,
    stream_over: int = BLOCK,
) -> web.StreamResponse:
    """Answer a GET or HEAD for ``blob``: 200, 206 (one or several ranges) or 416.

    ``headers`` are added to a 200 or 206. With an ``etag`` (the object's quoted entity tag),
    an ``If-Range`` naming another one gets the whole object, so a resuming client never splices
    two objects. ``several=False`` sends the whole object for several ranges (RFC 9110 allows
    it) rather than a multipart answer. Answers longer than ``stream_over`` bytes are streamed.
    """
    size = blob.size
    headers = {**(headers or {}), "Accept-Ranges": "bytes"}
    range_header = request.headers.get("Range")
    if etag is not None:
        headers["ETag"] = etag
        if_range = request.headers.get("If-Range")
        if if_range is not None and if_range.strip() != etag:
            range_header = None
    try:
        wanted = parse_ranges(range_header, size)
    except Unsatisfiable:
        return not_satisfiable(size)
    if wanted is not None and len(wanted) > 1 and not several:
        wanted = None
    if wanted is None or len(wanted) == 1:
        start, stop = (0, size) if wanted is None else wanted[0]
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        pieces: list[Piece] = [(blob, start, stop)]
    else:
        boundary = uuid.uuid4().hex
        pieces = []
        for start, stop in wanted:
            head = (
                f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                f"Content-Range: bytes {start}-{stop - 1}/{size}\r\n\r\n"
            )
            pieces += [_text(head), (blob, start, stop), _text("\r\n")]
        pieces.append(_text(f"--{boundary}--\r\n"))
        content_type = f"multipart/byteranges; boundary={boundary}"
    headers["Content-Type"] = content_type
    status = 200 if wanted is None else 206
    length = sum(stop - start for _, start, stop in pieces)
    if length <= stream_over:
        if all(isinstance(source, BytesBlob) for source, _, _ in pieces):
            body = _joined(pieces)  # already in memory: slicing needs no other thread
        else:  # read off the event loop, so other requests are served while the disk answers
            body = await asyncio.get_running_loop().run_in_executor(None, _joined, pieces)
        return web.Response(status=status, body=body, headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = length
    await response.prepare(request)
    if request.method != "HEAD":
        await _stream(request, response, pieces, length)
    return response


def _joined(pieces: list[Piece]) -> bytes:
    return b"".join(source.read_range(start, stop) for source, start, stop in pieces)


def _text(text: str) -> Piece:
    data = BytesBlob(text.encode())
    return data, 0, data.size


async def _stream(
    request: web.Request, response: web.StreamResponse, pieces: list[Piece], length: int
) -> None:
    """Send ``pieces`` in blocks read off the event loop, paced and cut as `faults` asks."""
    plan = faults.stream_plan(request)
    sending = plan.bytes_to_send(length)
    remaining, loop = sending, asyncio.get_running_loop()
    for source, start, stop in pieces:
        stop = min(stop, start + remaining)
        for at in range(start, stop, BLOCK):
            end = min(stop, at + BLOCK)
            block = await loop.run_in_executor(None, source.read_range, at, end)
            if len(block) < end - at:
                raise ConnectionResetError(f"{source} ended at byte {at + len(block)}")
            await plan.pace(len(block))
            await response.write(block)
        remaining -= stop - start
    if sending < length:
        faults.break_connection(request)  # an injected fault: the link fails mid-body
    else:
        await response.write_eof()


def not_satisfiable(size: int) -> web.Response:
    """The 416 answer: the service's JSON error, with the object's size in ``Content-Range``."""
    headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes */{size}"}
    body = {"code": "RangeNotSatisfiable", "description": f"The object has {size} bytes."}
    return web.json_response(body, status=416, headers=headers)
