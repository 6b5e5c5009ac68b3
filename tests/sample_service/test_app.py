"""The HTTP application: the Zarr route, its hardening, and the hooks.

The Zarr route is tested twice: with a stand-in store (exact bytes, so ranges,
HEAD and every traversal form can be checked precisely, and the store can be
asked what it was asked for), and with the real `zarr_store` (every item's
product opens with its asset's xarray kwargs, structure only).
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import xarray as xr
from aiohttp import web
from pystac_client import Client

from helpers.sample_service import catalog, settings
from helpers.sample_service.app import SERVER_HEADER, is_store_key
from helpers.sample_service.launcher import ThreadedServer

TUTORIAL_DATE = settings.TUTORIAL_DATE
TUTORIAL_PRODUCTS = catalog.products_on(TUTORIAL_DATE)
"""The root serves the catalogue of the tutorial's date (test_dated_catalogue.py: the others)."""

S2 = catalog.get_product("S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252")
CHUNK = bytes(range(256)) * 4  # 1024 bytes with distinguishable offsets
ZMETADATA = json.dumps({"zarr_consolidated_format": 1, "metadata": {}}).encode()


class StandInStore:
    """Two keys with known bytes; remembers every key it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            self.asked.append(key)
        if key == "boom/0.0":
            raise RuntimeError("generator failed")
        return {".zmetadata": ZMETADATA, "measurements/reflectance/r10m/b08/3.4": CHUNK}.get(key)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[tuple[ThreadedServer, StandInStore]]:
    store = StandInStore()
    with ThreadedServer(stores=lambda product_id: store) as server:
        yield server, store


def request(
    server: ThreadedServer, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One raw request (the path is sent byte for byte, no client-side normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = headers or {}
        connection.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def product_path() -> str:
    return "/" + catalog.product_path(S2)


# --- Zarr keys: content, HEAD, ranges ----------------------------------------------------


def test_zarr_keys_are_served_with_length_and_type(stand_in: Any) -> None:
    server, _ = stand_in
    status, headers, body = request(server, "GET", product_path() + "/.zmetadata")
    assert status == 200 and body == ZMETADATA
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(ZMETADATA)
    status, headers, body = request(
        server, "GET", product_path() + "/measurements/reflectance/r10m/b08/3.4"
    )
    assert status == 200 and body == CHUNK
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Server"] == SERVER_HEADER


def test_head_gives_the_length_without_a_body(stand_in: Any) -> None:
    server, _ = stand_in
    status, headers, body = request(
        server, "HEAD", product_path() + "/measurements/reflectance/r10m/b08/3.4"
    )
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == len(CHUNK)


@pytest.mark.parametrize(
    ("header", "status", "content_range", "expected"),
    [
        ("bytes=10-19", 206, "bytes 10-19/1024", CHUNK[10:20]),
        ("bytes=1000-", 206, "bytes 1000-1023/1024", CHUNK[1000:]),
        ("bytes=-5", 206, "bytes 1019-1023/1024", CHUNK[-5:]),
        ("bytes=1020-5000", 206, "bytes 1020-1023/1024", CHUNK[1020:]),
        ("bytes=2000-3000", 416, "bytes */1024", None),
        ("bytes=5-2", 200, None, CHUNK),  # malformed: ignored
    ],
)
def test_single_byte_ranges(
    stand_in: Any, header: str, status: int, content_range: str | None, expected: bytes | None
) -> None:
    server, _ = stand_in
    got_status, headers, body = request(
        server, "GET", product_path() + "/measurements/reflectance/r10m/b08/3.4", {"Range": header}
    )
    assert got_status == status
    assert headers.get("Content-Range") == content_range
    if expected is not None:
        assert body == expected and int(headers["Content-Length"]) == len(expected)


# --- Zarr route hardening ------------------------------------------------------------------

TRAVERSALS = [
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/etc/passwd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/..%252f..%252fetc%252fpasswd",
    "/measurements\\..\\..\\etc\\passwd",
    "/%5c..%5c..%5cetc%5cpasswd",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/./.zmetadata",
    "/measurements/./reflectance",
    "/",
    "",
]


@pytest.mark.parametrize("suffix", TRAVERSALS)
def test_traversal_forms_are_404_and_never_reach_the_store(stand_in: Any, suffix: str) -> None:
    server, store = stand_in
    before = len(store.asked)
    status, _, body = request(server, "GET", product_path() + suffix)
    assert status == 404
    assert json.loads(body)["code"] == "NotFoundError"
    assert b"root:" not in body
    assert store.asked[before:] == [], "a traversal key reached the store"


@pytest.mark.parametrize(
    "path",
    [
        "/objects/../../../../etc/passwd",
        "/objects/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/objects/",
        "/objects/202505-s02msil2a/22/products/cpm_v256/",
        "/etc/passwd",
    ],
)
def test_paths_outside_the_stores_are_404(stand_in: Any, path: str) -> None:
    server, _ = stand_in
    status, headers, body = request(server, "GET", path)
    assert status == 404 and b"root:" not in body
    assert headers["Content-Type"].startswith("application/json")


def test_a_product_is_only_found_at_its_own_location(stand_in: Any) -> None:
    server, _ = stand_in
    right = product_path() + "/.zmetadata"
    assert request(server, "GET", right)[0] == 200
    for wrong in (
        right.replace("202505-s02msil2a", "202506-s02msil2a"),
        right.replace("/22/", "/23/"),
        right.replace("cpm_v256", "cpm_v262"),
        right.replace(S2.id, S2.id.replace("T26TML", "T99XXX")),
    ):
        assert request(server, "GET", wrong)[0] == 404, wrong


def test_store_key_rule() -> None:
    assert is_store_key(".zmetadata")
    assert is_store_key(
        "owi/S01SIWOCN_20250604T193923_0025_A340_C971_0762FA_VV/measurements/.zarray"
    )
    assert is_store_key("measurements/reflectance/r10m/b08/3.4")
    for bad in ("", "/abs", "a//b", "..", "a/../b", ".", "a\\b", "%2e%2e", "a b", "a/"):
        assert not is_store_key(bad), bad


# --- errors, identification, hooks -----------------------------------------------------------


def test_a_failing_store_is_a_json_500_without_details(stand_in: Any) -> None:
    server, _ = stand_in
    status, _, body = request(server, "GET", product_path() + "/boom/0.0")
    assert status == 500
    assert json.loads(body) == {
        "code": "InternalServerError",
        "description": "Unexpected server error.",
    }


def test_every_answer_identifies_the_service(stand_in: Any) -> None:
    server, _ = stand_in
    for method, path in (("GET", "/"), ("GET", "/nowhere"), ("GET", "/search?limit=x")):
        status, headers, _ = request(server, method, path)
        assert headers["Server"] == SERVER_HEADER, (method, path, status)


def test_wrong_method_and_oversized_body_are_json_errors(stand_in: Any) -> None:
    server, _ = stand_in
    status, headers, body = request(server, "PUT", "/search")
    assert status == 405 and json.loads(body)["code"] == "MethodNotAllowed"
    assert "POST" in headers["Allow"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    big = b'{"ids": ["' + b"x" * (2 * 1024 * 1024) + b'"]}'
    connection.request("POST", "/search", body=big, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["code"] == "RequestEntityTooLarge"
    connection.close()


def test_hrefs_ignore_a_forged_host_header(stand_in: Any) -> None:
    server, _ = stand_in
    status, _, body = request(server, "GET", "/", {"Host": "evil.example:80"})
    hrefs = [link["href"] for link in json.loads(body)["links"]]
    assert status == 200 and all(h.startswith(server.url) for h in hrefs)


def test_fault_hook_sees_every_request_and_can_answer_for_the_service() -> None:
    seen: list[str] = []

    @web.middleware
    async def unavailable_chunks(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request.path)
        if request.path.endswith("/3.4"):
            return web.Response(status=503, text="injected")
        return await handler(request)

    store = StandInStore()
    with ThreadedServer(faults=unavailable_chunks, stores=lambda product_id: store) as server:
        assert request(server, "GET", product_path() + "/.zmetadata")[0] == 200
        status, _, body = request(server, "GET", product_path() + "/measurements/r/b/3.4")
        assert (status, body) == (503, b"injected")
    assert seen[-1].endswith("/3.4") and len(seen) == 2
    assert store.asked == [".zmetadata"]


# --- the real stores, through the STAC assets ----------------------------------------------------


def test_every_product_opens_with_its_asset_kwargs(sample_service_url: str) -> None:
    """Structure only: opening reads metadata and coordinates, never whole bands."""
    client = Client.open(sample_service_url)
    for record in TUTORIAL_PRODUCTS:
        item = client.get_collection(record.collection).get_item(record.id)
        product = item.assets["product"]
        tree = xr.open_datatree(product.href, **product.extra_fields["xarray:open_datatree_kwargs"])
        assert tree.attrs and len(tree.groups) > 5, record.id
        for key, asset in item.assets.items():
            kwargs = asset.extra_fields.get("xarray:open_dataset_kwargs")
            alternate = asset.extra_fields.get("alternate", {}).get("xarray", {})
            if kwargs is None and alternate.get("xarray:open_dataset_kwargs", {}).get(
                "op_mode"
            ) == ("native"):
                href, kwargs = alternate["href"], alternate["xarray:open_dataset_kwargs"]
            elif kwargs is not None:
                href = asset.href
            else:
                continue
            dataset = xr.open_dataset(href, **kwargs)
            assert dataset.data_vars, (record.id, key)
            group = href.split(".zarr/", 1)[1]
            assert set(dataset.data_vars) == set(tree[group].to_dataset().data_vars), (
                record.id,
                key,
            )
