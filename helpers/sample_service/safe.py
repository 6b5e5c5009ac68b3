"""The SAFE side of the sample service: a CDSE-style token, catalogue and authenticated download.

Why this module exists: the seed compares EOPF Zarr with the way Sentinel-2 data were fetched
before it: ask the Copernicus Data Space Ecosystem (CDSE) identity service for a token, find the
product in the CDSE STAC catalogue, follow its ``PRODUCT`` asset to the download service and
fetch the whole SAFE zip. The book measures both on every build, offline, so this module
replays that flow on the local server with the same request shapes:

- ``POST /auth/realms/CDSE/protocol/openid-connect/token``: an OpenID-Connect token endpoint
  (Keycloak's error bodies); password grant for client ``cdse-public`` with the sample
  credentials below; 401 with a JSON error otherwise.
- ``/safe-stac/``: the legacy CDSE catalogue (https://catalogue.dataspace.copernicus.eu/stac/)
  with collection ``SENTINEL-2`` and the product's ``<id>.SAFE`` item: `SAFE_CATALOGUE`, served
  by the service's one STAC API (`stac_api`, `stac_routes`), with item search's parameters.
- ``/safe-stac/odata/v1/Products(<uuid>)/$value``: the ``PRODUCT`` asset href; answers 302 to the
  download location ``/odata/v1/Products(<uuid>)/$value``, which requires the bearer token
  (401 otherwise) and streams the archive with its ``Content-Length``.

This module keeps only what is SAFE-specific: the token, the catalogue's contents, the OData
redirect and the download. The archive itself is built and cached by `safe_archive`. The
catalogue's metadata is plausible (modelled on the legacy CDSE items), not captured.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from . import faults, http_ranges, settings, stac_routes
from .catalog import S2_L2A, ProductRecord, footprint, products_in
from .errors import not_found
from .origin import request_origin
from .safe_archive import TARGET_BYTES, SafeArchive, default_cache_dir, quicklook_jpeg
from .stac_api import Catalogue, Entry

SAMPLE_USERNAME = settings.SAMPLE_USERNAME
SAMPLE_PASSWORD = settings.SAMPLE_PASSWORD
CLIENT_ID = settings.CLIENT_ID
PRODUCT_ID = settings.SAFE_PRODUCT_ID
COLLECTION_ID = settings.SAFE_COLLECTION_ID
ITEM_ID = settings.SAFE_ITEM_ID
TOKEN_PATH = settings.TOKEN_PATH
STAC_PREFIX = settings.SAFE_STAC_PREFIX
PRODUCT_UUID = "74252cb9-3567-4a49-8892-40f3a80ac52e"
"""The seed product's CDSE identifier, as the seed's printed download URL shows it."""
QUICKLOOK_UUID = "c0a5d1e2-35f1-4f6b-9d6c-0b7f3f1e9a41"
"""Identifier of the seed product's quicklook asset on the sample service (invented)."""
DOWNLOAD_PATH = f"/odata/v1/Products({PRODUCT_UUID})/$value"
_UUID_NAMESPACE = uuid.UUID("6f1c1b0e-4f39-4c55-9d36-0c1d6b1e2a14")  # invented, fixed


def product_uuid(product_id: str) -> str:
    """The CDSE identifier of a product's SAFE: the published one for the seed's product,
    a fixed invented one (UUID 5 of the name) for every other."""
    if product_id == PRODUCT_ID:
        return PRODUCT_UUID
    return str(uuid.uuid5(_UUID_NAMESPACE, product_id))


def quicklook_uuid(product_id: str) -> str:
    """The identifier of a product's quicklook asset (invented, fixed)."""
    if product_id == PRODUCT_ID:
        return QUICKLOOK_UUID
    return str(uuid.uuid5(_UUID_NAMESPACE, f"quicklook:{product_id}"))


def _by_uuid(value: str, make: Callable[[str], str]) -> ProductRecord | None:
    return next((r for r in _SAFE_RECORDS if make(r.id) == value.lower()), None)


TOKEN_LIFETIME = 600  # seconds, as CDSE's access tokens
_LICENCE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"

_SAFE_RECORDS = tuple(products_in(S2_L2A))
"""Every Sentinel-2 L2A product of the sample catalogue, of every date."""

_PRODUCTS_VALUE = re.compile(r"^Products\(([0-9a-fA-F-]{36})\)/\$value$")
_ASSETS_VALUE = re.compile(r"^Assets\(([0-9a-fA-F-]{36})\)/\$value$")


@dataclass
class _State:
    """Per-application state: issued tokens and the (lazily built) archive."""

    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    archives: dict[str, SafeArchive] = field(default_factory=dict)  # by product id
    cache_dir: Path | None = None
    target_bytes: int | None = None
    quicklooks: dict[str, bytes] = field(default_factory=dict)  # by product id


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
    stac_routes.add_routes(app, STAC_PREFIX, SAFE_CATALOGUE)
    odata = stac_routes.json_errors(catalogue_odata)
    app.router.add_get(f"{STAC_PREFIX}/odata/v1/{{entity:.*}}", odata)
    app.router.add_get("/odata/v1/{entity:.*}", stac_routes.json_errors(download))


def _archive(app: web.Application, record: ProductRecord) -> SafeArchive:
    state = app[STATE]
    with state.lock:
        archive = state.archives.get(record.id)
        if archive is None:
            archive = state.archives[record.id] = SafeArchive(
                record, state.cache_dir or default_cache_dir(), state.target_bytes or TARGET_BYTES
            )
        return archive


# --- token --------------------------------------------------------------------------------------


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    """Keycloak's error body (OAuth 2.0 ``error``, ``error_description``), which clients of
    the identity service read, plus the service's own ``code`` and ``description``."""
    body = {"error": error, "error_description": description}
    return web.json_response({**body, "code": error, "description": description}, status=status)


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
    return web.json_response(
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
        headers={"Cache-Control": "no-store"},
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


def _link(rel: str, href: str, media: str = "application/json") -> dict[str, str]:
    return {"rel": rel, "type": media, "href": href}


def _collections(root: str) -> list[dict[str, Any]]:
    """The catalogue's one collection, with links on ``root``."""
    return [
        {
            "type": "Collection",
            "id": COLLECTION_ID,
            "stac_version": "1.0.0",
            "title": "Sentinel-2",
            "description": "Sentinel-2 MSI products in SAFE format (sample replica: the "
            "Level-2A products of the EOPF sample catalogue, of every date).",
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
    ]


def _item(entry: Entry, root: str) -> dict[str, Any]:
    """The SAFE item as the legacy CDSE catalogue served it, with links on ``root``."""
    record = entry.record
    bbox, geometry = footprint(record)
    collection_href = f"{root}/collections/{COLLECTION_ID}"
    day = record.start_datetime[:10].replace("-", "/")
    item_id = entry.id
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
            "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
            "https://stac-extensions.github.io/alternate-assets/v1.1.0/schema.json",
        ],
        "id": item_id,
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
            _link("self", f"{collection_href}/items/{item_id}", "application/geo+json"),
            _link("parent", collection_href),
            _link("collection", collection_href),
            _link("root", f"{root}/"),
        ],
        "assets": {
            "QUICKLOOK": {
                "href": f"{root}/odata/v1/Assets({quicklook_uuid(record.id)})/$value",
                "type": "image/jpeg",
                "title": "QUICKLOOK",
                "roles": ["thumbnail"],
            },
            "PRODUCT": {
                "href": f"{root}/odata/v1/Products({product_uuid(record.id)})/$value",
                "type": "application/octet-stream",
                "title": "Product",
                "roles": ["data", "metadata", "archive"],
                "alternate": {
                    "s3": {
                        "href": f"/eodata/Sentinel-2/MSI/L2A/{day}/{item_id}",
                        "storage:platform": "CREODIAS",
                    }
                },
            },
        },
    }


SAFE_CATALOGUE = Catalogue(
    landing={
        "id": "cdse-stac-sample",
        "title": "Copernicus Data Space Ecosystem STAC (sample replica)",
        "description": "A local replica of the CDSE STAC catalogue holding the SAFE products "
        "of the sample catalogue (CDSE keeps its whole archive). Pixel values are synthetic.",
        "stac_version": "1.0.0",
        "conformsTo": [
            "https://api.stacspec.org/v1.0.0/core",
            "https://api.stacspec.org/v1.0.0/collections",
            "https://api.stacspec.org/v1.0.0/ogcapi-features",
            "https://api.stacspec.org/v1.0.0/item-search",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        ],
    },
    collections=_collections,
    entries=tuple(Entry(f"{r.id}.SAFE", COLLECTION_ID, r) for r in _SAFE_RECORDS),
    build_item=_item,
)
"""The legacy CDSE catalogue the seed searched: one collection, a SAFE for every L2A product
of the sample catalogue (CDSE's archive does not roll: products of every date stay)."""


# --- OData: redirect, download, quicklook ---------------------------------------------------------


async def catalogue_odata(request: web.Request) -> web.StreamResponse:
    """The catalogue's OData links: ``Products(...)/$value`` redirects to the download service."""
    entity = request.match_info["entity"]
    product = _PRODUCTS_VALUE.match(entity)
    if product and _by_uuid(product.group(1), product_uuid) is not None:
        uuid_text = product.group(1).lower()
        raise web.HTTPFound(f"{request_origin(request)}/odata/v1/Products({uuid_text})/$value")
    quicklook = _ASSETS_VALUE.match(entity)
    record = _by_uuid(quicklook.group(1), quicklook_uuid) if quicklook else None
    if record is not None:
        return web.Response(body=await _quicklook(request.app, record), content_type="image/jpeg")
    raise not_found(f"No product or asset at {entity}.")


async def _quicklook(app: web.Application, record: ProductRecord) -> bytes:
    state = app[STATE]
    if record.id not in state.quicklooks:
        loop = asyncio.get_running_loop()
        state.quicklooks[record.id] = await loop.run_in_executor(None, quicklook_jpeg, record)
    return state.quicklooks[record.id]


async def download(request: web.Request) -> web.StreamResponse:
    """The download service: the SAFE zip, for a valid bearer token only.

    A ``Range`` request gets that part (206), so a client whose connection broke resumes
    where it stopped; the ``ETag`` names the archive's content, so ``If-Range`` makes sure
    the parts come from one and the same archive. Faults asked of the service (`faults`) are
    applied here, block by block: the body is streamed, so the middleware cannot cut it.
    """
    entity = request.match_info["entity"]
    product = _PRODUCTS_VALUE.match(entity)
    record = _by_uuid(product.group(1), product_uuid) if product else None
    if record is None:
        raise not_found(f"No product at {entity}.")
    if not _authorised(request):
        return web.json_response(
            {
                "code": "NotAuthenticated",
                "description": "Not authenticated: send 'Authorization: Bearer <access_token>'.",
                "detail": "Not authenticated",
            },
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    archive = _archive(request.app, record)
    loop = asyncio.get_running_loop()
    stored = await loop.run_in_executor(None, archive.ensure)
    etag = archive_etag(archive)
    try:
        part = http_ranges.single_range(request, stored.size, etag)
    except http_ranges.Unsatisfiable:
        return http_ranges.not_satisfiable(stored.size)
    start, stop = part or (0, stored.size)
    headers = {
        "Content-Type": "application/zip",
        "Content-Disposition": f'attachment; filename="{archive.filename}"',
        "Accept-Ranges": "bytes",
        "ETag": etag,
    }
    if part is not None:
        headers.update(http_ranges.partial_headers(start, stop, stored.size))
    response = web.StreamResponse(status=200 if part is None else 206, headers=headers)
    response.content_length = stop - start
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    plan = faults.stream_plan(request)
    sending = plan.bytes_to_send(stop - start)
    # The payload is streamed from its offset in the cache entry, a megabyte at a time.
    with stored.path.open("rb") as handle:
        handle.seek(stored.offset + start)
        remaining = sending
        while remaining:
            block = await loop.run_in_executor(None, handle.read, min(1 << 20, remaining))
            if not block:
                raise ConnectionResetError(f"{stored.path} ended early")
            await plan.pace(len(block))
            await response.write(block)
            remaining -= len(block)
    if sending < stop - start:
        faults.break_connection(request)  # an injected fault: the link fails mid-download
        return response
    await response.write_eof()
    return response


def archive_etag(archive: SafeArchive) -> str:
    """The archive's entity tag: a digest of its cache key, which decides its every byte."""
    return '"' + hashlib.sha256(archive.key.encode("utf-8")).hexdigest()[:32] + '"'
