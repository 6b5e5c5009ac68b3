"""The sample service's STAC APIs checked by a conformance validator nobody here wrote, offline.

What must hold: ``stac-api-validator`` (the STAC community's API validator, which also runs
stac-validator, stac-check and pystac on what it fetches) finds no defect in the three STAC
APIs the service serves: the EOPF catalogue at the tutorial's date (the root) and at the
current one, and the CDSE replica of the SAFE chapter; and stac-validator finds every one of
their collections and items valid against the schemas they name. Every conformance class a
landing page declares is exercised: by the validator where it has a test for the class, else
by `test_features_items_filter_sort_and_query` below; a class declared without either fails
the run. The validator fetches the official JSON schemas; `tests/schemas/` holds them (README
there), and `_OfflineWeb` answers those URLs from it and refuses every other address but the
service's, so the run needs no network and cannot silently skip a schema.

Known defects of the validator (not of the service) are named in `VALIDATOR_DEFECTS` with the
reason; the errors they cause are set aside by exact pattern, and nothing else is; so are the
schema failures of the replica's items named in `REPLICA_DEFECTS`, each at its date. A control
run against the SAFE replica as it was before issue 16 shows that the run does fail on a
declared class the service does not implement.
"""

from __future__ import annotations

import dataclasses
import email.message
import io
import json
import re
import urllib.error
import urllib.request
import urllib.response
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import stac_api_validator.validations as validations
import stac_validator.utilities
import urllib3
import urllib3.connectionpool
from aiohttp import web
from stac_api_validator.validations import QueryConfig, validate_api
from stac_validator.stac_validator import StacValidate

from helpers.sample_service import safe, stac_routes

from .test_safe import _Server

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
LOOPBACK = frozenset({"127.0.0.1", "localhost"})
ROOTS = {"tutorial date": "", "current date": "2026-11-29/", "SAFE replica": "safe-stac/"}
COLLECTION = {"": "sentinel-2-l2a", "2026-11-29/": "sentinel-2-l2a", "safe-stac/": "SENTINEL-2"}
"""The collection each run searches and browses: the one the book's chapters read."""

_STAC = "https://api.stacspec.org/v1.0.0"
_OGC = "http://www.opengis.net/spec"
VALIDATOR_OPTION = {
    f"{_STAC}/core": "core",
    f"{_STAC}/collections": "collections",
    f"{_STAC}/ogcapi-features": "features",
    f"{_STAC}/item-search": "item-search",
    f"{_STAC}/item-search#query": "item-search#query",
    f"{_STAC}/item-search#sort": "item-search#sort",
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter": "filter",
    f"{_OGC}/cql2/1.0/conf/basic-cql2": "filter",
    f"{_OGC}/cql2/1.0/conf/cql2-json": "filter",
    f"{_OGC}/cql2/1.0/conf/cql2-text": "filter",
    f"{_OGC}/ogcapi-features-3/1.0/conf/filter": "filter",
    f"{_OGC}/ogcapi-features-3/1.0/conf/features-filter": "features#filter",
    f"{_OGC}/ogcapi-features-1/1.0/conf/core": "features",
    f"{_OGC}/ogcapi-features-1/1.0/conf/geojson": "features",
    # Core checks the service-desc link: an OpenAPI 3.0 document of the announced type.
    f"{_OGC}/ogcapi-features-1/1.0/conf/oas30": "core",
}
"""The validator's option that exercises each conformance class the service may declare."""

EXERCISED_HERE = {
    # The validator logs "not yet supported" for these, and for features-filter it checks only
    # the queryables: the filtering itself is exercised below.
    f"{_STAC}/ogcapi-features#query": "test_features_items_filter_sort_and_query",
    f"{_STAC}/ogcapi-features#sort": "test_features_items_filter_sort_and_query",
    f"{_OGC}/ogcapi-features-3/1.0/conf/features-filter": (
        "test_features_items_filter_sort_and_query"
    ),
}

VALIDATOR_DEFECTS = {
    "the 'in' operator of the query extension is checked as an overlap of arrays": (
        # stac-api-validator 0.6.8 validate_query takes set(property) of every result, so for a
        # string property it compares the letters of the value with the values asked for.
        re.compile(r"search with Query '\{\"platform\": \{\"in\": .*had non-matching results"),
    ),
}
"""Errors of stac-api-validator 0.6.8 that are its own, each with the pattern of its messages."""

REPLICA_DEFECTS = {
    "raster v1.1.0 declared, v2.0.0 fields": (
        # The Sentinel-2 items of 2025 declare the raster extension v1.1.0 but carry
        # raster:scale/raster:offset on the assets (the v2.0.0 layout), exactly as the live
        # items of May 2025 did (templates/stac/item_fields.json): kept, as the replica of that
        # date. The items of the current date declare v2.0.0 and pass.
        "",
        re.compile(r"'raster:offset', 'raster:scale' do not match any of the regexes"),
    ),
}
"""Schema failures of the service's items that are known, by name: (root, message pattern)."""


class _OfflineWeb:
    """The network as the test allows it: the service, and the shipped schemas by their URLs.

    Three HTTP stacks are in play: ``requests`` (stac-api-validator, stac-validator's schema
    fetches), urllib3 directly (pystac's schema fetches) and ``urllib`` (stac-validator's link
    checks). ``requests`` runs on urllib3's connection pools, so patching the pool's
    ``urlopen`` and ``urllib.request.urlopen`` covers all three. None of the three libraries
    offers a setting for local schemas that the validator passes on.
    """

    def __init__(self) -> None:
        self.served: set[str] = set()
        self.refused: set[str] = set()

    def local(self, url: str) -> Path | None:
        """The shipped file for ``url``; None for the service; raises for anything else."""
        parts = urlsplit(url)
        if parts.hostname in LOOPBACK:
            return None
        path = SCHEMAS / (parts.hostname or "") / parts.path.lstrip("/")
        if path.suffix == ".json" and path.is_file():
            self.served.add(url)
            return path
        self.refused.add(url)
        raise ConnectionRefusedError(f"offline test: {url} is neither the service nor shipped")

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        pool_urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen
        web = self

        def offline_pool_urlopen(
            pool: urllib3.connectionpool.HTTPConnectionPool, method: str, url: str, **kwargs: Any
        ) -> urllib3.BaseHTTPResponse:
            full = url if "://" in url else f"{pool.scheme}://{pool.host}{url}"
            try:
                path = web.local(full)
            except ConnectionRefusedError as error:
                raise urllib3.exceptions.NewConnectionError(pool, str(error)) from None
            if path is None:
                return pool_urlopen(pool, method, url, **kwargs)
            data = path.read_bytes()
            return urllib3.HTTPResponse(
                body=io.BytesIO(data),
                headers={"Content-Type": "application/json", "Content-Length": str(len(data))},
                status=200,
                preload_content=kwargs.get("preload_content", True),
                request_method=method,
                request_url=full,
            )

        urlopen = urllib.request.urlopen

        def offline_urlopen(request: Any, *args: Any, **kwargs: Any) -> Any:
            url = request.full_url if isinstance(request, urllib.request.Request) else request
            try:
                path = web.local(url)
            except ConnectionRefusedError as error:
                raise urllib.error.URLError(str(error)) from None
            if path is None:
                return urlopen(request, *args, **kwargs)
            return urllib.response.addinfourl(
                io.BytesIO(path.read_bytes()), email.message.Message(), url, 200
            )

        monkeypatch.setattr(
            urllib3.connectionpool.HTTPConnectionPool, "urlopen", offline_pool_urlopen
        )
        monkeypatch.setattr(urllib.request, "urlopen", offline_urlopen)
        monkeypatch.setattr(stac_validator.utilities, "urlopen", offline_urlopen)


class _SpecSession(requests.Session):
    """The validator's session, sending POST ``collections`` as the array the spec requires.

    stac-api-validator 0.6.8 sends ``"collections": "<id>"`` (a string) in the POST bodies of
    its sort and query checks; STAC API item search defines ``collections`` as an array of
    strings, and the service answers a string with 400, as a strict server may. Corrected here
    so that those checks test the service's sorting and querying rather than that mistake.
    """

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        body = request.json
        if isinstance(body, dict) and isinstance(body.get("collections"), str):
            request.json = {**body, "collections": [body["collections"]]}
        return super().prepare_request(request)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[_OfflineWeb]:
    web = _OfflineWeb()
    web.install(monkeypatch)
    # stac-validator keeps the schemas it fetched: forget them, so each run fetches its own.
    stac_validator.utilities.fetch_and_parse_schema.cache_clear()
    monkeypatch.setattr(validations, "Session", _SpecSession)
    yield web


def _items(url: str) -> list[dict[str, Any]]:
    return requests.get(url, params={"limit": 100}, timeout=60).json()["features"]


def _query_config(items: list[dict[str, Any]]) -> QueryConfig:
    """Values for the query extension's checks, taken from the collection's items.

    Numbers are passed as numbers: the query extension compares a number with a number (the
    validator's command line can only pass strings, which a typed server matches with nothing).
    """
    orbits = sorted({i["properties"]["sat:relative_orbit"] for i in items})
    platforms = sorted({i["properties"]["platform"] for i in items})
    assert len(orbits) > 1 and len(platforms) > 1, "the checks need two values of each"
    lowest, highest = orbits[0], orbits[-1]
    return QueryConfig(
        query_comparison_field="sat:relative_orbit",
        query_eq_value=lowest,  # type: ignore[arg-type]
        query_neq_value=lowest,  # type: ignore[arg-type]
        query_lt_value=highest,  # type: ignore[arg-type]
        query_lte_value=lowest,  # type: ignore[arg-type]
        query_gt_value=lowest,  # type: ignore[arg-type]
        query_gte_value=highest,  # type: ignore[arg-type]
        query_substring_field="platform",
        query_starts_with_value=platforms[0][:-1],
        query_ends_with_value=platforms[0][-2:],
        query_contains_value=platforms[0][2:-2],
        query_in_field="platform",
        query_in_values=",".join(platforms[:2]),
    )


def _run_validator(root_url: str) -> tuple[list[str], list[str], set[str]]:
    """(errors, errors set aside as the validator's own, option names) of a whole run."""
    landing = requests.get(root_url, timeout=60).json()
    declared = landing["conformsTo"]
    unexercised = [c for c in declared if c not in VALIDATOR_OPTION and c not in EXERCISED_HERE]
    assert not unexercised, f"declared but exercised by no test: {unexercised}"
    options = {VALIDATOR_OPTION[c] for c in declared if c in VALIDATOR_OPTION}
    collection = COLLECTION[root_url.split("/", 3)[3]]
    items = _items(f"{root_url}collections/{collection}/items")
    query_config = (
        _query_config(items) if "item-search#query" in options else QueryConfig(*([None] * 13))
    )
    _warnings, errors = validate_api(
        root_url=root_url,
        ccs_to_validate=sorted(options),
        collection=collection,
        geometry=json.dumps(items[0]["geometry"]),
        auth_bearer_token=None,
        auth_query_parameter=None,
        fields_nested_property=None,
        validate_pagination=True,
        query_config=query_config,
        transaction_collection=None,
        headers=None,
    )
    found = list(errors)
    validator_own = [
        e for e in found if any(p.search(e) for ps in VALIDATOR_DEFECTS.values() for p in ps)
    ]
    return [e for e in found if e not in validator_own], validator_own, options


@pytest.mark.parametrize("root", list(ROOTS.values()), ids=list(ROOTS))
def test_the_validator_finds_no_defect(
    sample_service_url: str, offline: _OfflineWeb, root: str
) -> None:
    errors, _set_aside, options = _run_validator(sample_service_url + root)
    known = [p for where, p in REPLICA_DEFECTS.values() if where == root]
    kept = [e for e in errors if not any(p.search(e) for p in known)]
    assert kept == [], "\n".join(kept)
    # Every schema came from tests/schemas; only links to other sites (licence, DOI) were
    # refused, which stac-validator reports as unreachable links, not as invalid STAC.
    missing = sorted(url for url in offline.refused if url.endswith(".json"))
    assert not missing, f"schemas not shipped in tests/schemas: {missing}"
    assert any("schemas.stacspec.org" in url for url in offline.served)
    assert {"core", "collections", "features", "item-search"} <= options


@pytest.mark.parametrize("root", ["", "2026-11-29/"])
def test_features_items_filter_sort_and_query(sample_service_url: str, root: str) -> None:
    """``/collections/{id}/items`` takes the extensions the landing page declares for it."""
    url = f"{sample_service_url}{root}collections/sentinel-2-l2a/items"
    every = _items(url)
    cover = sorted(i["properties"]["eo:cloud_cover"] for i in every)
    threshold = cover[len(cover) // 2]  # some items on each side
    below = {i["id"] for i in every if i["properties"]["eo:cloud_cover"] < threshold}
    assert 0 < len(below) < len(every)

    def ids(**params: str) -> list[str]:
        response = requests.get(url, params={"limit": "100", **params}, timeout=60)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["features"]]

    assert set(ids(query=json.dumps({"eo:cloud_cover": {"lt": threshold}}))) == below
    assert set(ids(filter=f"eo:cloud_cover < {threshold}")) == below  # cql2-text, the default
    as_json = {"op": "<", "args": [{"property": "eo:cloud_cover"}, threshold]}
    assert set(ids(filter=json.dumps(as_json), **{"filter-lang": "cql2-json"})) == below
    by_cover = ids(sortby="-eo:cloud_cover")
    by_id = {i["id"]: i for i in every}
    assert [by_id[i]["properties"]["eo:cloud_cover"] for i in by_cover] == cover[::-1]


def test_the_validator_catches_a_declared_class_not_implemented(offline: _OfflineWeb) -> None:
    """The control: the SAFE replica as it was before issue 16 (item search declared, but only
    ids, collections and limit taken) fails the run, on the parameters it refused."""
    crippled = dataclasses.replace(
        safe.SAFE_CATALOGUE, search_parameters=("ids", "collections", "limit", "token")
    )
    app = web.Application()
    stac_routes.add_routes(app, "/safe-stac", crippled)
    with _Server(app) as server:
        errors, _set_aside, _options = _run_validator(server.url + "safe-stac/")
    assert any("bbox" in e and "400" in e for e in errors)
    assert any("intersects" in e for e in errors)


@pytest.mark.parametrize("root", list(ROOTS.values()), ids=list(ROOTS))
def test_every_collection_and_item_is_valid_stac(
    sample_service_url: str, offline: _OfflineWeb, root: str
) -> None:
    """stac-validator on every collection and every item, not only the ones the run samples."""
    url = sample_service_url + root
    known = [p for where, p in REPLICA_DEFECTS.values() if where == root]
    invalid: list[str] = []
    checked = 0
    for collection in requests.get(url + "collections", timeout=60).json()["collections"]:
        for document in [collection, *_items(f"{url}collections/{collection['id']}/items")]:
            validator = StacValidate()
            checked += 1
            if not validator.validate_dict(document):
                message = str(validator.message[0].get("error_message"))
                if not any(p.search(message) for p in known):
                    invalid.append(f"{document['id']}: {message}")
    assert invalid == [], "\n".join(invalid)
    assert checked > 10
    missing = sorted(url for url in offline.refused if url.endswith(".json"))
    assert not missing, f"schemas not shipped in tests/schemas: {missing}"
