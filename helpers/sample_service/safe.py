"""The SAFE side of the sample service: a CDSE-style token, catalogue and authenticated download.

Why this module exists: the seed compares EOPF Zarr with the way Sentinel-2 data were fetched
before it: ask the Copernicus Data Space Ecosystem (CDSE) identity service for a token, find the
product in the CDSE STAC catalogue, follow its ``PRODUCT`` asset to the download service and
fetch the whole SAFE zip. The book measures both on every build, offline, so this module
replays that flow on the local server with the same request shapes:

- ``POST /auth/realms/CDSE/protocol/openid-connect/token``: an OpenID-Connect token endpoint
  (Keycloak's error bodies); password grant for client ``cdse-public`` with the sample
  credentials below; 401 with a JSON error otherwise.
- ``/safe-stac/``: a STAC API (landing page, conformance, collections, items, search) with
  collection ``SENTINEL-2`` and the product's ``<id>.SAFE`` item, as the legacy CDSE catalogue
  (https://catalogue.dataspace.copernicus.eu/stac/) served it.
- ``/safe-stac/odata/v1/Products(<uuid>)/$value``: the ``PRODUCT`` asset href; answers 302 to the
  download location ``/odata/v1/Products(<uuid>)/$value``, which requires the bearer token
  (401 otherwise) and streams the archive with its ``Content-Length``.

The archive itself is built and cached by :mod:`helpers.sample_service.safe_archive`. The
catalogue's metadata is plausible (modelled on the legacy CDSE items), not captured.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from helpers.sample_service.catalog import ProductRecord, footprint, get_product
from helpers.sample_service.origin import request_origin

if TYPE_CHECKING:  # imported lazily at run time: it loads numpy and Pillow
    from helpers.sample_service.safe_archive import SafeArchive

SAMPLE_USERNAME = "eopf-book-reader"
"""User name the sample token endpoint accepts (documented; it protects nothing)."""
SAMPLE_PASSWORD = "sample-service-only"
"""Password the sample token endpoint accepts (documented; it protects nothing)."""
CLIENT_ID = "cdse-public"
"""The public OpenID client CDSE users authenticate with."""

PRODUCT_ID = "S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416"
"""The seed's SAFE example: the same acquisition as its Sentinel-2 Zarr example."""
PRODUCT_UUID = "74252cb9-3567-4a49-8892-40f3a80ac52e"
"""The product's CDSE identifier, as the seed's printed download URL shows it."""
QUICKLOOK_UUID = "c0a5d1e2-35f1-4f6b-9d6c-0b7f3f1e9a41"
"""Identifier of the product's quicklook asset on the sample service (invented)."""

COLLECTION_ID = "SENTINEL-2"
ITEM_ID = f"{PRODUCT_ID}.SAFE"
TOKEN_PATH = "/auth/realms/CDSE/protocol/openid-connect/token"
STAC_PREFIX = "/safe-stac"
DOWNLOAD_PATH = f"/odata/v1/Products({PRODUCT_UUID})/$value"
TOKEN_LIFETIME = 600  # seconds, as CDSE's access tokens
_LICENCE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"

_PRODUCTS_VALUE = re.compile(r"^Products\(([0-9a-fA-F-]{36})\)/\$value$")
_ASSETS_VALUE = re.compile(r"^Assets\(([0-9a-fA-F-]{36})\)/\$value$")


@dataclass
class _State:
    """Per-application state: issued tokens and the (lazily built) archive."""

    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    archive: SafeArchive | None = None
    cache_dir: Path | None = None
    target_bytes: int | None = None
    quicklook: bytes | None = None


STATE = web.AppKey("safe_state", _State)


def setup(
    app: web.Application, *, cache_dir: Path | None = None, target_bytes: int | None = None
) -> None:
    """Register the SAFE routes on ``app`` (``app.py`` calls it).

    ``cache_dir`` and ``target_bytes`` (archive size) are for tests: by default the archive is
    cached in ``safe_archive.default_cache_dir()`` and is as large as the seed's.
    """
    app[STATE] = _State(cache_dir=cache_dir, target_bytes=target_bytes)
    app.router.add_post(TOKEN_PATH, token)
    app.router.add_get(f"{STAC_PREFIX}", landing)
    app.router.add_get(f"{STAC_PREFIX}/", landing)
    app.router.add_get(f"{STAC_PREFIX}/conformance", conformance)
    app.router.add_get(f"{STAC_PREFIX}/collections", collections)
    app.router.add_get(f"{STAC_PREFIX}/collections/{{collection_id}}", collection)
    app.router.add_get(f"{STAC_PREFIX}/collections/{{collection_id}}/items", items)
    app.router.add_get(f"{STAC_PREFIX}/collections/{{collection_id}}/items/{{item_id}}", item)
    app.router.add_route("GET", f"{STAC_PREFIX}/search", search)
    app.router.add_route("POST", f"{STAC_PREFIX}/search", search)
    app.router.add_get(f"{STAC_PREFIX}/odata/v1/{{entity:.*}}", catalogue_odata)
    app.router.add_get("/odata/v1/{entity:.*}", download)


def _record() -> ProductRecord:
    record = get_product(PRODUCT_ID)
    if record is None:  # the catalogue and this module disagree: a programming error
        raise RuntimeError(f"{PRODUCT_ID} is missing from catalog.PRODUCTS")
    return record


def _archive(app: web.Application) -> SafeArchive:
    state = app[STATE]
    with state.lock:
        if state.archive is None:
            from helpers.sample_service import safe_archive

            state.archive = safe_archive.SafeArchive(
                _record(),
                state.cache_dir or safe_archive.default_cache_dir(),
                state.target_bytes or safe_archive.TARGET_BYTES,
            )
        return state.archive


def _json(data: Any, status: int = 200, **headers: str) -> web.Response:
    return web.json_response(data, status=status, headers=headers or None)


def _not_found(description: str) -> web.Response:
    return _json({"code": "NotFoundError", "description": description}, status=404)


def _bad_request(description: str) -> web.Response:
    return _json({"code": "BadRequest", "description": description}, status=400)


# --- token --------------------------------------------------------------------------------------


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return _json({"error": error, "error_description": description}, status=status)


async def token(request: web.Request) -> web.Response:
    """Issue a bearer token for the sample credentials (OpenID-Connect password grant)."""
    form = await request.post()
    grant = form.get("grant_type")
    if not grant:
        return _oauth_error(400, "invalid_request", "Missing form parameter: grant_type")
    if grant != "password":
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
    if form.get("client_id") != CLIENT_ID:
        return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    if form.get("username") != SAMPLE_USERNAME or form.get("password") != SAMPLE_PASSWORD:
        return _oauth_error(401, "invalid_grant", "Invalid user credentials")
    state = request.app[STATE]
    issued = secrets.token_urlsafe(32)
    now = time.monotonic()
    with state.lock:
        state.tokens = {t: exp for t, exp in state.tokens.items() if exp > now}
        state.tokens[issued] = now + TOKEN_LIFETIME
    return _json(
        {
            "access_token": issued,
            "expires_in": TOKEN_LIFETIME,
            "refresh_expires_in": 3600,
            "refresh_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": secrets.token_hex(16),
            "scope": "AUDIENCE_PUBLIC openid email profile user-context",
        },
        **{"Cache-Control": "no-store"},
    )


def _authorised(request: web.Request) -> bool:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value:
        return False
    state = request.app[STATE]
    with state.lock:
        expiry = state.tokens.get(value.strip())
    return expiry is not None and expiry > time.monotonic()


# --- STAC catalogue -----------------------------------------------------------------------------


def _link(rel: str, href: str, media: str = "application/json", **extra: str) -> dict[str, str]:
    return {"rel": rel, "type": media, "href": href, **extra}


def _stac_links(base: str) -> list[dict[str, str]]:
    root = f"{base}{STAC_PREFIX}/"
    return [_link("self", root), _link("root", root)]


async def landing(request: web.Request) -> web.Response:
    base = request_origin(request)
    root = f"{base}{STAC_PREFIX}"
    links = [
        *_stac_links(base),
        _link("data", f"{root}/collections"),
        _link("conformance", f"{root}/conformance"),
        _link("search", f"{root}/search", "application/geo+json", method="GET"),
        _link("search", f"{root}/search", "application/geo+json", method="POST"),
        _link("child", f"{root}/collections/{COLLECTION_ID}", title="Sentinel-2"),
    ]
    return _json(
        {
            "type": "Catalog",
            "id": "cdse-stac-sample",
            "title": "Copernicus Data Space Ecosystem STAC (sample replica)",
            "description": "A local replica of the CDSE STAC catalogue holding the one SAFE "
            "product the book downloads. Pixel values in the archive are synthetic.",
            "stac_version": "1.0.0",
            "conformsTo": _CONFORMANCE,
            "links": links,
        }
    )


_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]


async def conformance(request: web.Request) -> web.Response:
    return _json({"conformsTo": _CONFORMANCE})


def _collection(base: str) -> dict[str, Any]:
    root = f"{base}{STAC_PREFIX}"
    return {
        "type": "Collection",
        "id": COLLECTION_ID,
        "stac_version": "1.0.0",
        "title": "Sentinel-2",
        "description": "Sentinel-2 MSI products in SAFE format (sample replica: the one "
        "Level-2A product the book compares with EOPF Zarr).",
        "license": "proprietary",
        "keywords": ["Sentinel-2", "MSI", "SAFE", "Copernicus"],
        "providers": [
            {"name": "ESA", "roles": ["producer"], "url": "https://www.esa.int"},
            {
                "name": "Copernicus Data Space Ecosystem",
                "roles": ["host"],
                "url": "https://dataspace.copernicus.eu",
            },
        ],
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [["2015-06-27T10:25:31Z", None]]},
        },
        "links": [
            _link("self", f"{root}/collections/{COLLECTION_ID}"),
            _link("root", f"{root}/"),
            _link("parent", f"{root}/"),
            _link("items", f"{root}/collections/{COLLECTION_ID}/items", "application/geo+json"),
            _link("license", _LICENCE, "application/pdf"),
        ],
    }


async def collections(request: web.Request) -> web.Response:
    base = request_origin(request)
    return _json(
        {
            "collections": [_collection(base)],
            "links": [
                {"rel": "self", "href": f"{base}{STAC_PREFIX}/collections"},
                {"rel": "root", "href": f"{base}{STAC_PREFIX}/"},
            ],
        }
    )


async def collection(request: web.Request) -> web.Response:
    collection_id = request.match_info["collection_id"]
    if collection_id != COLLECTION_ID:
        return _not_found(f"Collection {collection_id} does not exist.")
    return _json(_collection(request_origin(request)))


def _item(base: str) -> dict[str, Any]:
    record = _record()
    bbox, geometry = footprint(record)
    root = f"{base}{STAC_PREFIX}"
    collection_href = f"{root}/collections/{COLLECTION_ID}"
    day = record.start_datetime[:10].replace("-", "/")
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
            "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
            "https://stac-extensions.github.io/alternate-assets/v1.1.0/schema.json",
        ],
        "id": ITEM_ID,
        "collection": COLLECTION_ID,
        "bbox": bbox,
        "geometry": geometry,
        "properties": {
            "datetime": record.start_datetime,
            "start_datetime": record.start_datetime,
            "end_datetime": record.end_datetime,
            "productType": "S2MSI2A",
            "processingLevel": "S2MSI2A",
            "processorVersion": "05.11",
            "platform": record.platform,
            "constellation": "sentinel-2",
            "instruments": ["msi"],
            "tileId": record.mgrs_tile,
            "eo:cloud_cover": record.cloud_cover,
            "sat:relative_orbit": record.relative_orbit,
            "sat:absolute_orbit": record.absolute_orbit,
            "sat:orbit_state": "descending",
        },
        "links": [
            _link("self", f"{collection_href}/items/{ITEM_ID}", "application/geo+json"),
            _link("parent", collection_href),
            _link("collection", collection_href),
            _link("root", f"{root}/"),
        ],
        "assets": {
            "QUICKLOOK": {
                "href": f"{root}/odata/v1/Assets({QUICKLOOK_UUID})/$value",
                "type": "image/jpeg",
                "title": "QUICKLOOK",
                "roles": ["thumbnail"],
            },
            "PRODUCT": {
                "href": f"{root}/odata/v1/Products({PRODUCT_UUID})/$value",
                "type": "application/octet-stream",
                "title": "Product",
                "roles": ["data", "metadata", "archive"],
                "alternate": {
                    "s3": {
                        "href": f"/eodata/Sentinel-2/MSI/L2A/{day}/{ITEM_ID}",
                        "storage:platform": "CREODIAS",
                    }
                },
            },
        },
    }


def _feature_collection(base: str, features: list[dict[str, Any]], self_href: str) -> dict:
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "numberReturned": len(features),
        "links": [
            {"rel": "self", "href": self_href},
            {"rel": "root", "href": f"{base}{STAC_PREFIX}/"},
        ],
    }


async def items(request: web.Request) -> web.Response:
    collection_id = request.match_info["collection_id"]
    if collection_id != COLLECTION_ID:
        return _not_found(f"Collection {collection_id} does not exist.")
    base = request_origin(request)
    return _json(_feature_collection(base, [_item(base)], str(request.url)))


async def item(request: web.Request) -> web.Response:
    collection_id = request.match_info["collection_id"]
    item_id = request.match_info["item_id"]
    if collection_id != COLLECTION_ID:
        return _not_found(f"Collection {collection_id} does not exist.")
    if item_id != ITEM_ID:
        return _not_found(f"Item {item_id} in Collection {collection_id} does not exist.")
    return _json(_item(request_origin(request)))


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError("must be a list of strings")


async def search(request: web.Request) -> web.Response:
    """Item search by ``ids`` and ``collections`` (the catalogue holds one item)."""
    if request.method == "POST":
        try:
            params = await request.json()
        except ValueError:
            return _bad_request("The search body is not JSON.")
        if not isinstance(params, dict):
            return _bad_request("The search body must be a JSON object.")
    else:
        params = dict(request.query)
    unsupported = sorted(set(params) - {"ids", "collections", "limit"})
    if unsupported:
        return _bad_request(
            "This sample catalogue searches by ids and collections only, "
            f"not by {', '.join(unsupported)}."
        )
    try:
        ids = _as_list(params.get("ids"))
        wanted = _as_list(params.get("collections"))
    except ValueError as error:
        return _bad_request(f"ids and collections {error}.")
    base = request_origin(request)
    features = []
    if (ids is None or ITEM_ID in ids) and (wanted is None or COLLECTION_ID in wanted):
        features = [_item(base)]
    return _json(_feature_collection(base, features, f"{base}{STAC_PREFIX}/search"))


# --- OData: redirect, download, quicklook ---------------------------------------------------------


async def catalogue_odata(request: web.Request) -> web.StreamResponse:
    """The catalogue's OData links: ``Products(...)/$value`` redirects to the download service."""
    entity = request.match_info["entity"]
    product = _PRODUCTS_VALUE.match(entity)
    if product and product.group(1).lower() == PRODUCT_UUID:
        raise web.HTTPFound(f"{request_origin(request)}{DOWNLOAD_PATH}")
    quicklook = _ASSETS_VALUE.match(entity)
    if quicklook and quicklook.group(1).lower() == QUICKLOOK_UUID:
        return web.Response(body=await _quicklook(request.app), content_type="image/jpeg")
    return _not_found(f"No product or asset at {entity}.")


async def _quicklook(app: web.Application) -> bytes:
    state = app[STATE]
    if state.quicklook is None:
        from helpers.sample_service.safe_archive import quicklook_jpeg

        loop = asyncio.get_running_loop()
        state.quicklook = await loop.run_in_executor(None, quicklook_jpeg, _record())
    return state.quicklook


async def download(request: web.Request) -> web.StreamResponse:
    """The download service: the whole SAFE zip, for a valid bearer token only."""
    entity = request.match_info["entity"]
    product = _PRODUCTS_VALUE.match(entity)
    if not product or product.group(1).lower() != PRODUCT_UUID:
        return _not_found(f"No product at {entity}.")
    if not _authorised(request):
        return _json(
            {"detail": "Not authenticated: send 'Authorization: Bearer <access_token>'."},
            status=401,
            **{"WWW-Authenticate": "Bearer"},
        )
    archive = _archive(request.app)
    path = await asyncio.get_running_loop().run_in_executor(None, archive.ensure)
    return web.FileResponse(
        path,
        chunk_size=1 << 20,
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{archive.filename}"',
        },
    )
