"""Byte ranges as an object store answers them: parsing, and the served answers.

RFC 9110's forms are checked on an object in memory; then the served answers on a Zarr v3
document of the staging collection and on a shard (over one block), so single, suffix,
open-ended and unsatisfiable ranges are all seen through real HTTP, several ranges get the
whole object, and a streamed answer is cut where the fault injection says.
"""

from __future__ import annotations

import asyncio
import http.client
import urllib.request
from dataclasses import dataclass
from urllib.error import HTTPError

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from helpers.sample_service import faults, http_ranges, zarr3_catalog
from helpers.sample_service.cache import StoredFile
from helpers.sample_service.http_ranges import BLOCK, BytesBlob
from helpers.sample_service.launcher import ThreadedServer
from helpers.sample_service.zarr3_store import open_zarr3_store

SIZE = 1000
RECORD = zarr3_catalog.records_on("2026-11-29")[0]
SHARD = "measurements/reflectance/r60m/b04/c/0/0"
"""About 3 MB: more than one block, so its answers are streamed."""


OBJECT = bytes(i % 251 for i in range(SIZE))


@pytest.mark.parametrize(
    ("header", "status", "expected"),
    [
        (None, 200, (0, 1000)),
        ("bytes=0-9", 206, (0, 10)),
        ("bytes=990-", 206, (990, 1000)),
        ("bytes=-5", 206, (995, 1000)),
        ("bytes=-5000", 206, (0, 1000)),
        ("bytes=995-2000", 206, (995, 1000)),
        ("bytes=0-1, 5-6,-2", 200, (0, 1000)),  # several ranges: the whole object
        ("bytes=0-1,2000-3000", 200, (0, 1000)),
        ("bytes=5-2", 200, (0, 1000)),  # invalid: the header is ignored
        ("items=0-9", 200, (0, 1000)),
        ("bytes=abc", 200, (0, 1000)),
        ("bytes=1000-", 416, None),
        ("bytes=2000-3000", 416, None),
    ],
)
def test_range_headers(header: str | None, status: int, expected: tuple[int, int] | None) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await http_ranges.respond(request, BytesBlob(OBJECT), "application/octet-stream")

    async def fetch() -> tuple[int, dict[str, str], bytes]:
        app = web.Application()
        app.router.add_get("/", handler)
        async with (
            TestServer(app) as server,
            aiohttp.ClientSession() as session,
            session.get(server.make_url("/"), headers={"Range": header} if header else {}) as got,
        ):
            return got.status, dict(got.headers), await got.read()

    got_status, headers, body = asyncio.run(fetch())
    assert got_status == status
    if expected is None:
        assert headers["Content-Range"] == f"bytes */{SIZE}"
        return
    start, stop = expected
    assert body == OBJECT[start:stop]
    ranged = headers.get("Content-Range")
    assert ranged == (f"bytes {start}-{stop - 1}/{SIZE}" if status == 206 else None)


@pytest.fixture(scope="module")
def document_url(sample_service_url: str) -> str:
    return _url(sample_service_url, "zarr.json")


def _url(root: str, key: str) -> str:
    return f"{root}2026-11-29/{zarr3_catalog.store_path(RECORD)}/{key}"


def _get(url: str, range_header: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Range": range_header} if range_header else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_served_ranges(document_url: str) -> None:
    status, headers, whole = _get(document_url)
    assert status == 200 and headers["Accept-Ranges"] == "bytes"
    size = len(whole)
    assert size > 100_000  # the consolidated root of a v3 product
    cases = {
        "bytes=10-19": (10, 20),
        "bytes=100-": (100, size),
        "bytes=-7": (size - 7, size),
        f"bytes={size - 3}-{size + 50}": (size - 3, size),
    }
    for header, (start, stop) in cases.items():
        status, headers, body = _get(document_url, header)
        assert status == 206, header
        assert headers["Content-Range"] == f"bytes {start}-{stop - 1}/{size}"
        assert body == whole[start:stop] and int(headers["Content-Length"]) == stop - start


def test_several_ranges_get_the_whole_object(document_url: str) -> None:
    _, _, whole = _get(document_url)
    status, headers, body = _get(document_url, "bytes=0-4,50-59,-3")
    assert status == 200 and body == whole and "Content-Range" not in headers


def test_an_answer_over_one_block_is_streamed_unchanged(sample_service_url: str) -> None:
    stored = _shard()
    whole, size = stored.read_range(0, stored.size), stored.size
    assert size > 2 * BLOCK
    url = _url(sample_service_url, SHARD)
    status, headers, body = _get(url)
    assert status == 200 and body == whole and int(headers["Content-Length"]) == size
    status, headers, body = _get(url, f"bytes=100-{size - 101}")
    assert status == 206 and body == whole[100:-100]
    assert headers["Content-Range"] == f"bytes 100-{size - 101}/{size}"
    status, headers, body = _get(url, f"bytes=-{BLOCK + 1}")
    assert status == 206 and body == whole[-BLOCK - 1 :]
    assert _get(url, f"bytes={size}-")[0] == 416


def test_a_streamed_answer_is_cut_where_the_faults_say() -> None:
    size = _shard().size
    dropped = faults.FaultSpec(drop=1.0, seed=1).middleware()
    with ThreadedServer(faults=dropped) as server, pytest.raises(http.client.IncompleteRead) as cut:
        urllib.request.urlopen(_url(server.url, SHARD), timeout=60).read()
    assert 0 < len(cut.value.partial) < size


@dataclass(frozen=True)
class _LostTail:
    """An object whose file lost everything after its first block once its size was read."""

    size: int = 3 * BLOCK

    def read_range(self, start: int, stop: int) -> bytes:
        return bytes(max(0, min(stop, BLOCK) - start))


def test_a_stored_object_cut_short_breaks_the_answer_off() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await http_ranges.respond(request, _LostTail(), "application/octet-stream")

    async def fetch() -> None:
        app = web.Application()
        app.router.add_get("/", handler)
        timeout = aiohttp.ClientTimeout(total=30)  # without the break, the client would wait
        async with (
            TestServer(app) as server,
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(server.make_url("/")) as response,
        ):
            assert response.content_length == 3 * BLOCK
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()

    asyncio.run(fetch())


def _shard() -> StoredFile:
    """The cached shard (built here when missing)."""
    store = open_zarr3_store(RECORD.id)
    assert store is not None
    return store.shard(SHARD)


def test_past_the_end_is_416(document_url: str) -> None:
    _, _, whole = _get(document_url)
    status, headers, body = _get(document_url, f"bytes={len(whole)}-")
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(whole)}"
    assert b"RangeNotSatisfiable" in body


def test_head_states_the_length(document_url: str) -> None:
    _, _, whole = _get(document_url)
    request = urllib.request.Request(document_url, method="HEAD")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200 and response.read() == b""
        assert int(response.headers["Content-Length"]) == len(whole)
