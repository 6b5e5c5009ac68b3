"""HTTP byte ranges (RFC 9110 section 14) over any stored object, as an object store answers.

A sharded Zarr v3 store is read almost only by ranges, and a broken SAFE download resumes by
one: ``206`` with ``Content-Range``, ``416`` with ``Content-Range: bytes */size``, ``If-Range``
against the ``ETag``. aiohttp parses the header (`web.Request.http_range`, one range); a header
it cannot read, several ranges among them, gets the whole object, as RFC 9110 allows and S3
does. Every body is streamed in blocks: only the bytes asked for are read (off the event loop
when they come from disk), paced and cut where `faults` planned it (`Delivery`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

BLOCK = 1 << 20
"""Bodies are sent in blocks of this size, so a long one is never held whole in memory."""


class Blob(Protocol):
    """A stored object: its size, and any slice of its bytes (`cache.StoredFile`, `BytesBlob`)."""

    @property
    def size(self) -> int: ...

    def read_range(self, start: int, stop: int) -> bytes: ...


@dataclass(frozen=True)
class BytesBlob:
    """An object held in memory (metadata documents, chunks, answers built whole)."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def read_range(self, start: int, stop: int) -> bytes:
        return self.data[start:stop]


@dataclass(frozen=True)
class Delivery:
    """How a body travels, as the fault middleware planned it (the default: whole, at once)."""

    transfer_delay: Callable[[int], float] | None = None
    """Seconds until so many more bytes have crossed the shared link (None: unlimited)."""
    cut: float | None = None
    """Where the connection breaks, as a fraction of the body (None: it never does)."""

    def bytes_to_send(self, length: int) -> int:
        """How many of a body's ``length`` bytes to send before breaking the connection."""
        if self.cut is None or length < 2:
            return length
        return 1 + int(self.cut * (length - 1))  # at least one byte, never all of them


DELIVERY = web.RequestKey("delivery", Delivery)


async def respond(
    request: web.Request,
    blob: Blob,
    content_type: str,
    *,
    headers: Mapping[str, str] | None = None,
    etag: str | None = None,
) -> web.StreamResponse:
    """Answer a GET or HEAD for ``blob``: 200, 206 or 416.

    ``headers`` are added to a 200 or 206. With an ``etag`` (the object's quoted entity tag),
    an ``If-Range`` naming another one gets the whole object, so a resuming client never splices
    two objects.
    """
    size = blob.size
    headers = {**(headers or {}), "Accept-Ranges": "bytes", "Content-Type": content_type}
    if etag is not None:
        headers["ETag"] = etag
    ranged = "Range" in request.headers and request.headers.get("If-Range", etag) == etag
    try:
        start, stop, _ = request.http_range.indices(size) if ranged else (0, size, 1)
    except ValueError:  # not one range: ignored (RFC 9110 section 14.2)
        ranged, start, stop = False, 0, size
    if ranged and start >= stop:  # the service's JSON error, with the object's size
        body = {"code": "RangeNotSatisfiable", "description": f"The object has {size} bytes."}
        headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes */{size}"}
        return web.json_response(body, status=416, headers=headers)
    if ranged:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    response = web.StreamResponse(status=206 if ranged else 200, headers=headers)
    return await send(request, response, blob, start, stop)


async def send(
    request: web.Request, response: web.StreamResponse, blob: Blob, start: int, stop: int
) -> web.StreamResponse:
    """Send bytes ``start`` to ``stop - 1`` of ``blob`` as the body of ``response``."""
    response.content_length = stop - start
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    delivery, loop = request.get(DELIVERY) or Delivery(), asyncio.get_running_loop()
    end = start + delivery.bytes_to_send(stop - start)
    for at in range(start, end, BLOCK):
        upto = min(end, at + BLOCK)
        if isinstance(blob, BytesBlob):  # in memory: slicing needs no other thread
            block = blob.read_range(at, upto)
        else:  # from disk: other requests are served while it answers
            block = await loop.run_in_executor(None, blob.read_range, at, upto)
        if len(block) < upto - at:
            raise ConnectionResetError(f"{blob} ended at byte {at + len(block)}")
        if delivery.transfer_delay is not None:
            await asyncio.sleep(delivery.transfer_delay(len(block)))
        await response.write(block)
    if end < stop and request.transport is not None:
        request.transport.close()  # an injected fault: the link fails mid-body
    else:
        await response.write_eof()
    return response
