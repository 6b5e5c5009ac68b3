"""The sample service serves its own data and nothing else, and no input makes it fail.

What must hold: it listens on the loopback interface only (in a thread and as ``python -m
helpers.sample_service``); it lists no directories and serves no files by path; every
traversal form (encoded, double-encoded, backslashes, absolute) is a 404 that never shows a
file's contents; bad parameters and malformed search bodies, however deep or odd, are a 400 with
a JSON error, never a 500; request bodies are limited in size (413). Everything is checked over
HTTP, against the real application, so the URL parsing and the middleware are part of the test.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psutil
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.sample_service import catalog, stac_api, stac_items
from helpers.sample_service.app import build_app
from helpers.sample_service.launcher import ThreadedServer
from helpers.sample_service.settings import SAFE_STAC_PREFIX, TOKEN_PATH

REPO = Path(__file__).resolve().parents[2]
S2 = catalog.get_product("S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252")
PRODUCT = "/" + catalog.product_path(S2)
# Text that would show up if any file were served: this repository's pyproject.toml and passwd.
CANARIES = (b"[build-system]", b"root:x:0:0", b"eopf-zarr-book-helpers")


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with ThreadedServer() as server:
        yield server.port


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request, its path sent byte for byte (no client-side normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None and "Transfer-Encoding" not in (headers or {}):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def assert_json_error(status: int, headers: dict[str, str], body: bytes, expected: int) -> None:
    assert status == expected, body[:200]
    assert headers["content-type"].startswith("application/json")
    answer = json.loads(body)
    assert set(answer) == {"code", "description"} and "\n" not in answer["description"]


# --- loopback only -----------------------------------------------------------------------------


def _listening_addresses(process: psutil.Process, port: int) -> set[str]:
    return {
        c.laddr.ip
        for c in process.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }


def test_the_in_process_service_listens_on_loopback_only(port: int) -> None:
    assert _listening_addresses(psutil.Process(), port) == {"127.0.0.1"}


def test_the_service_command_listens_on_loopback_only() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        free = probe.getsockname()[1]
    env = {**os.environ, "EOPF_SAMPLE_IDLE_SECONDS": "60"}
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.sample_service", "--background", "--port", str(free)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline().decode()  # printed once it listens
        assert f"http://127.0.0.1:{free}/" in banner
        addresses = set()
        for _ in range(50):  # the socket is bound before the banner; allow the table to catch up
            addresses = _listening_addresses(psutil.Process(process.pid), free)
            if addresses:
                break
            time.sleep(0.1)
        assert addresses == {"127.0.0.1"}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()


# --- no listings, no files -------------------------------------------------------------------


def test_no_route_serves_files_from_disk() -> None:
    app = build_app()
    static = [r for r in app.router.resources() if isinstance(r, web.StaticResource)]
    assert static == []


@pytest.mark.parametrize(
    "path",
    [
        "/objects",
        "/objects/",
        "/objects/202505-s02msil2a/",
        "/objects/202505-s02msil2a/22/products/cpm_v256/",
        PRODUCT,
        PRODUCT + "/",
        PRODUCT + "/measurements/",
        PRODUCT + "/measurements/reflectance/r10m/b08/",
        "/collections/",
        "/odata/v1/",
        "/static/",
        "/book/",
        "/helpers/",
        "/.cache/",
    ],
)
def test_directories_are_not_listed(port: int, path: str) -> None:
    status, headers, body = call(port, "GET", path)
    assert_json_error(status, headers, body, 404)
    assert b".zarray" not in body and b"0.0" not in body


_TRAVERSALS = [
    "../../../../etc/passwd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2F%2E%2E%2Fpyproject.toml",
    "%252e%252e%252f%252e%252e%252fpyproject.toml",
    "%25252e%25252e/pyproject.toml",
    "..\\..\\..\\..\\pyproject.toml",
    "..%5c..%5c..%5cpyproject.toml",
    "%5c%5c..%5cetc%5cpasswd",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "//etc/passwd",
    "measurements/../../../../../pyproject.toml",
    "measurements/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    "./.zmetadata/../../pyproject.toml",
    "..%00/pyproject.toml",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "C:\\Windows\\win.ini",
    "file:///etc/passwd",
]


@pytest.mark.parametrize(
    "prefix",
    [
        PRODUCT + "/",
        "/",
        "/collections/",
        "/odata/v1/",
        SAFE_STAC_PREFIX + "/collections/",
    ],
)
@pytest.mark.parametrize("traversal", _TRAVERSALS)
def test_traversal_in_every_form_is_404(port: int, prefix: str, traversal: str) -> None:
    path = prefix + traversal
    if not path.startswith("/"):
        path = "/" + path
    status, headers, body = call(port, "GET", path.replace("///", "//"))
    assert status in (404, 400), (status, path)  # 400 only for bytes HTTP itself rejects
    assert not any(canary in body for canary in CANARIES)
    if status == 404:
        assert_json_error(status, headers, body, 404)


# --- bad input is a JSON 400 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=0",
        "limit=-5",  # above the maximum is cropped (test_stac_api), below 1 refused
        "bbox=1,2",
        "bbox=nan,nan,nan,nan",
        "bbox=inf,-inf,1,2",
        "bbox=10,10,0,0",
        "datetime=2025-13-01",
        "datetime=%FF%FE",
        "datetime=../..",
        "datetime=%0A2025",  # the description quotes the input, and stays one line
        "intersects=%7B",
        "intersects=null",
        "intersects=" + quote('{"type":"Point","coordinates":[1e400,1]}'),
        "filter=%7B%7D",
        "filter-lang=cql2-text&filter=id%3D%3D1",
        "filter-lang=cql2-text&filter=" + quote("id LIKE 'S2%'"),  # beyond basic CQL2
        "query=%5B%5D",
        "token=next:nothing",
        "bbox=0,0,1,1&intersects=" + quote('{"type":"Point","coordinates":[0,0]}'),
        "filter=" + "[" * 3000 + "]" * 3000,  # deeper than the JSON decoder can recurse
    ],
)
def test_bad_query_parameters_are_400_json(port: int, query: str) -> None:
    for path in ("/search", "/collections/sentinel-2-l2a/items"):
        status, headers, body = call(port, "GET", f"{path}?{query}")
        if path.endswith("items") and status == 200:
            continue  # /items ignores the search-only parameters, as the live API does
        assert_json_error(status, headers, body, 400)


@pytest.mark.parametrize(
    "request_line",
    [
        "/search?ids=" + "S2A," * 3000,  # a request line over 8 KiB
        "/search?datetime=" + "x" * 70_000,  # far over it
    ],
)
def test_an_overlong_request_line_is_a_stac_json_400(port: int, request_line: str) -> None:
    # aiohttp's parser refuses it before the application sees it; its answer is JSON too.
    status, headers, body = call(port, "GET", request_line)
    assert_json_error(status, headers, body, 400)
    assert "POST /search" in json.loads(body)["description"]


def test_an_overlong_header_is_a_stac_json_400(port: int) -> None:
    status, headers, body = call(port, "GET", "/search", headers={"X-Long": "a" * 9000})
    assert_json_error(status, headers, body, 400)


def _nested_filter(depth: int) -> bytes:
    """A search body whose CQL2 filter nests ``depth`` ``not`` operators."""
    leaf = b'{"op": "isNull", "args": [{"property": "id"}]}'
    return b'{"filter": ' + b'{"op": "not", "args": [' * depth + leaf + b"]}" * depth + b"}"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"\xff\xfe\x00",
        b"[]",
        b"null",
        b"42",
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON decoder can recurse
        _nested_filter(600),
        b'{"limit": 1e400}',
        b'{"limit": true}',
        b'{"bbox": [NaN, 0, 1, 1]}',
        b'{"bbox": "0,0,1,1"}',
        b'{"collections": [1]}',
        b'{"intersects": {"type": "Point", "coordinates": "ab"}}',
        b'{"intersects": {"type": "MultiPolygon", "coordinates": [[[]]]}}',
        b'{"datetime": 5}',
        b'{"sortby": "datetime"}',
        b'{"query": {"eo:cloud_cover": {"like": 5}}}',
        b'{"filter": {"op": "like", "args": []}}',
        b'{"filter": {"op": ["x"], "args": []}}',  # an operator that is not a string
        b'{"filter": {"op": {"x": 1}, "args": []}}',
        b'{"token": "prev:a:b"}',
    ],
)
def test_malformed_search_bodies_are_400_json(port: int, body: bytes) -> None:
    status, headers, answer = call(
        port, "POST", "/search", body, {"Content-Type": "application/json"}
    )
    assert_json_error(status, headers, answer, 400)


def test_request_bodies_are_limited_in_size(port: int) -> None:
    big = b'{"ids": ["' + b"x" * (2 * 1024 * 1024) + b'"]}'
    json_type = {"Content-Type": "application/json"}
    status, headers, body = call(port, "POST", "/search", big, json_type)
    assert_json_error(status, headers, body, 413)
    # Without a Content-Length (chunked), the limit holds while reading.
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part)
        for part in (big[i : i + 65536] for i in range(0, len(big), 65536))
    )
    status, headers, body = call(
        port,
        "POST",
        "/search",
        chunked + b"0\r\n\r\n",
        {**json_type, "Transfer-Encoding": "chunked"},
    )
    assert_json_error(status, headers, body, 413)
    # The SAFE replica's token form is bounded by the same limit.
    form = b"username=" + b"x" * (2 * 1024 * 1024)
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    status, headers, body = call(port, "POST", TOKEN_PATH, form, form_type)
    assert_json_error(status, headers, body, 413)


# --- property-based: no parameters make a 500 ---------------------------------------------------

_COLLECTIONS = stac_items.collection_ids()
_finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-400, max_value=400)
_any_float = st.floats(allow_nan=True, allow_infinity=True)
_coordinate = st.lists(st.one_of(_finite, _any_float), min_size=1, max_size=4)
_ring = st.lists(_coordinate, min_size=0, max_size=6)
_geometry = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                *("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon"),
                *("MultiPolygon", "GeometryCollection", "Feature", "Circle"),
            ]
        ),
        "coordinates": st.one_of(
            _coordinate, _ring, st.lists(_ring, max_size=3), st.lists(st.lists(_ring, max_size=2))
        ),
    }
)
_instant = st.datetimes().map(lambda d: d.isoformat()) | st.datetimes().map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
)
_interval = st.tuples(_instant | st.sampled_from(["..", ""]), _instant | st.just("..")).map(
    "/".join
)
_property = st.sampled_from(["id", "datetime", "eo:cloud_cover", "platform", "properties.x", "z"])
_leaf = st.one_of(st.none(), st.booleans(), st.integers(), _any_float, st.text(max_size=10))
_json_any = st.recursive(
    _leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3)
)
_cql2 = st.recursive(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["=", "<>", "<", "<=", ">", ">=", "isNull", "like", "in"])
            | _json_any,
            "args": st.lists(
                st.one_of(_leaf, st.fixed_dictionaries({"property": _property}), _instant),
                max_size=3,
            ),
        }
    ),
    lambda children: st.fixed_dictionaries(
        {"op": st.sampled_from(["and", "or", "not"]), "args": st.lists(children, max_size=3)}
    ),
    max_leaves=8,
)
_query_ext = st.dictionaries(
    _property,
    st.dictionaries(
        st.sampled_from(["eq", "neq", "lt", "lte", "gt", "gte", "in", "startsWith", "x"]),
        _leaf | st.lists(_leaf, max_size=3),
        max_size=2,
    ),
    max_size=2,
)
_sortby_body = st.lists(
    st.fixed_dictionaries(
        {"field": _property, "direction": st.sampled_from(["asc", "desc", "up"])}
    ),
    max_size=3,
)
_body_values: dict[str, st.SearchStrategy[Any]] = {
    "collections": st.lists(st.sampled_from(_COLLECTIONS) | st.text(max_size=12), max_size=3),
    "ids": st.lists(st.text(max_size=20), max_size=3),
    "bbox": st.lists(_finite | _any_float, min_size=3, max_size=7),
    "intersects": _geometry,
    "datetime": _instant | _interval | st.text(max_size=25),
    "limit": st.integers(min_value=-5, max_value=20_000),
    "token": st.text(max_size=30) | st.sampled_from(["next:", "prev:x:y", "next:a:b:c"]),
    "query": _query_ext,
    "sortby": _sortby_body,
    "filter": _cql2,
    "filter-lang": st.sampled_from(["cql2-json", "cql2-text", ""]),
}


def _search_body() -> st.SearchStrategy[dict[str, Any]]:
    """Search bodies: each parameter present or not, typed plausibly or as any JSON at all."""
    return st.fixed_dictionaries(
        {},
        optional={name: values | _json_any for name, values in _body_values.items()},
    )


def _as_text(name: str, value: Any) -> str:
    """A body value as a query-string parameter would carry it."""
    if name in ("collections", "ids", "bbox") and isinstance(value, list):
        return ",".join(str(v) for v in value)
    if name == "sortby" and isinstance(value, list):
        return ",".join(
            ("-" if e.get("direction") == "desc" else "+") + str(e.get("field", ""))
            for e in value
            if isinstance(e, dict)
        )
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _check_answer(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status in (200, 400), (status, body[:300])
    assert headers["content-type"].split(";")[0] in ("application/json", stac_api.GEOJSON)
    answer = json.loads(body)
    if status == 400:
        assert answer["code"] == "BadRequest" and "\n" not in answer["description"]
    else:
        assert answer["type"] == "FeatureCollection"
        assert all(not math.isnan(f) for f in answer["context"].values() if isinstance(f, float))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=_search_body())
def test_no_search_body_makes_a_500(port: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()  # NaN and Infinity go out as JSON's common extension
    _check_answer(*call(port, "POST", "/search", raw, {"Content-Type": "application/json"}))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    body=_search_body(),
    extra=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=2),
)
def test_no_search_query_makes_a_500(
    port: int, body: dict[str, Any], extra: dict[str, str]
) -> None:
    params = {name: _as_text(name, value) for name, value in body.items()}
    params.update({k: v for k, v in extra.items() if k not in params})
    query = urlencode(params)
    _check_answer(*call(port, "GET", f"/search?{query}" if query else "/search"))
