"""The SAFE download under faults: retried, resumed with ``Range``, and byte-identical.

What must hold: the download service answers single ``Range`` requests (206, ``Content-Range``,
``If-Range`` against its ``ETag``, 416 past the end); the fault middleware cuts and paces the
streamed archive as it does answers built in memory; the chapter's own ``download_archive``,
on the book's `retries.retrying_session`, survives 5xx answers and broken connections and ends
with the archive the service holds, byte for byte (compared by SHA-256); and every error the
SAFE routes answer is JSON with the service's ``code`` and ``description``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from aiohttp import web

from helpers import retries
from helpers.sample_service import faults, safe, settings
from helpers.sample_service.safe_archive import SafeArchive

from . import test_safe
from .test_safe import GOOD_FORM, SMALL, _chapter_function, _Server

# The small archive and the cache holding it, built for this module as for test_safe's.
reference = test_safe.reference
safe_cache = test_safe.safe_cache

DOWNLOAD_PATH = f"odata/v1/Products({safe.PRODUCT_UUID})/$value"


class _SafeService:
    """The SAFE routes on a private server, behind a fault injector (None: no faults)."""

    def __init__(self, cache: Path, injector: faults.FaultInjector | None) -> None:
        middlewares = [injector.middleware] if injector is not None else []
        app = web.Application(middlewares=middlewares)
        safe.setup(app, cache_dir=cache, target_bytes=SMALL)
        self.injector = injector
        self._server = _Server(app)

    def __enter__(self) -> _SafeService:
        self._server.__enter__()
        self.url = self._server.url
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def token(self, session: requests.Session) -> str:
        response = session.post(
            self.url + settings.TOKEN_PATH.lstrip("/"), data=GOOD_FORM, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


@pytest.fixture(scope="module")
def archive_bytes(reference: tuple[SafeArchive, tuple]) -> bytes:
    return reference[0].ensure().read()


@pytest.fixture(scope="module")
def service(safe_cache: Path) -> Iterator[_SafeService]:
    with _SafeService(safe_cache, None) as running:
        yield running


@pytest.fixture(scope="module")
def auth(service: _SafeService) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.token(requests.Session())}"}


# --- ranges ---------------------------------------------------------------------------------------


def test_a_range_request_gets_that_part(
    service: _SafeService, auth: dict[str, str], archive_bytes: bytes
) -> None:
    size = len(archive_bytes)
    whole = requests.head(service.url + DOWNLOAD_PATH, headers=auth, timeout=60)
    assert whole.headers["Accept-Ranges"] == "bytes"
    etag = whole.headers["ETag"]
    part = requests.get(
        service.url + DOWNLOAD_PATH, headers={**auth, "Range": "bytes=1000-"}, timeout=60
    )
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 1000-{size - 1}/{size}"
    assert part.headers["ETag"] == etag
    assert part.content == archive_bytes[1000:]
    middle = requests.get(
        service.url + DOWNLOAD_PATH,
        headers={**auth, "Range": "bytes=10-19", "If-Range": etag},
        timeout=60,
    )
    assert (middle.status_code, middle.content) == (206, archive_bytes[10:20])


def test_a_range_of_another_archive_gets_the_whole(
    service: _SafeService, auth: dict[str, str], archive_bytes: bytes
) -> None:
    response = requests.get(
        service.url + DOWNLOAD_PATH,
        headers={**auth, "Range": "bytes=1000-", "If-Range": '"an-older-archive"'},
        timeout=60,
    )
    assert response.status_code == 200
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(archive_bytes).digest()


def test_a_range_past_the_end_is_a_json_416(
    service: _SafeService, auth: dict[str, str], archive_bytes: bytes
) -> None:
    size = len(archive_bytes)
    response = requests.get(
        service.url + DOWNLOAD_PATH, headers={**auth, "Range": f"bytes={size}-"}, timeout=60
    )
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"
    assert response.json()["code"] == "RangeNotSatisfiable"


# --- faults on the streamed archive ---------------------------------------------------------------


def test_a_dropped_download_breaks_off_mid_archive(safe_cache: Path, archive_bytes: bytes) -> None:
    injector = faults.FaultInjector(faults.parse("drop=1,seed=3,match=^/odata/"))
    with _SafeService(safe_cache, injector) as running:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {running.token(session)}"}
        with session.get(running.url + DOWNLOAD_PATH, headers=headers, stream=True) as response:
            assert int(response.headers["Content-Length"]) == len(archive_bytes)
            received = bytearray()
            with pytest.raises(requests.exceptions.ChunkedEncodingError):
                for chunk in response.iter_content(chunk_size=1 << 16):
                    received += chunk
    assert 0 < len(received) < len(archive_bytes)
    assert bytes(received) == archive_bytes[: len(received)]  # the right bytes, too few
    assert injector.counts["drop"] == 1


def test_bandwidth_paces_the_streamed_archive(safe_cache: Path, archive_bytes: bytes) -> None:
    """The shared link is booked for every block sent: the archive's bytes at 800 Mbit/s."""
    injector = faults.FaultInjector(faults.parse("bandwidth=800,match=^/odata/"))
    with _SafeService(safe_cache, injector) as running:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {running.token(session)}"}
        booked_from = injector._link_free_at
        response = session.get(running.url + DOWNLOAD_PATH, headers=headers, timeout=120)
    assert response.content == archive_bytes
    # Each block is booked after the previous one, so the link is busy for the whole body.
    booked = injector._link_free_at - max(booked_from, 0.0)
    assert booked >= len(archive_bytes) * 8 / 800e6


@pytest.mark.parametrize(
    "spec",
    ["drop=0.6,seed=1,match=^/odata/", "rate=0.3,drop=0.3,seed=4"],
    ids=["broken-connections", "server-errors-and-broken-connections"],
)
def test_the_chapters_download_resumes_to_the_same_bytes(
    safe_cache: Path, archive_bytes: bytes, tmp_path: Path, spec: str
) -> None:
    download_archive = _chapter_function("download_archive")
    injector = faults.FaultInjector(faults.parse(spec))
    statuses: list[int] = []
    with _SafeService(safe_cache, injector) as running:
        session = retries.retrying_session()
        session.hooks["response"].append(
            lambda response, **kw: statuses.append(response.status_code)
        )
        headers = {"Authorization": f"Bearer {running.token(session)}"}
        destination = tmp_path / "product.zip"
        received = download_archive(session, running.url + DOWNLOAD_PATH, headers, destination)
    assert received == len(archive_bytes)
    digest = hashlib.sha256(destination.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(archive_bytes).hexdigest()
    assert [p.name for p in tmp_path.iterdir()] == ["product.zip"]  # no .part left behind
    # The faults happened, and a broken download was resumed, not restarted.
    assert injector.counts["drop"] > 0
    assert 206 in statuses
    if "rate" in spec:  # and server errors were answered, and asked again
        assert injector.counts["fail"] > 0


# --- every error is the service's JSON ------------------------------------------------------------


def test_every_safe_error_is_json_with_a_code(sample_service_url: str) -> None:
    url = sample_service_url
    answers = {
        "token, wrong password": requests.post(
            url + settings.TOKEN_PATH.lstrip("/"), data={**GOOD_FORM, "password": "x"}, timeout=30
        ),
        "token, GET": requests.get(url + settings.TOKEN_PATH.lstrip("/"), timeout=30),
        "download, no token": requests.get(url + DOWNLOAD_PATH, timeout=30),
        "download, unknown product": requests.get(
            url + "odata/v1/Products(00000000-0000-0000-0000-000000000000)/$value", timeout=30
        ),
        "download, POST": requests.post(url + DOWNLOAD_PATH, timeout=30),
        "catalogue OData, unknown entity": requests.get(
            url + "safe-stac/odata/v1/Nothing", timeout=30
        ),
        "catalogue, unknown item": requests.get(
            url + "safe-stac/collections/SENTINEL-2/items/nothing.SAFE", timeout=30
        ),
    }
    for name, response in answers.items():
        assert response.status_code >= 400, name
        assert response.headers["Content-Type"].startswith("application/json"), name
        body = response.json()
        assert body["code"] and body["description"], (name, body)
