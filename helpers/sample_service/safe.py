"""The SAFE side of the sample service: a CDSE-style token, catalogue and authenticated download.

The seed fetched Sentinel-2 the pre-EOPF way: a token from the Copernicus Data Space Ecosystem
(CDSE) identity service, the product's item in the CDSE STAC catalogue, its ``PRODUCT`` asset
followed to the download service, the whole SAFE zip. This module replays that flow offline
with the same request shapes (``settings.TOKEN_PATH``, ``/safe-stac/`` and its OData links,
``/odata/v1/Products(<uuid>)/$value``); the catalogue (``templates/safe/cdse_stac.json``) is
plausible, modelled on the legacy CDSE items, and the archive is built by `safe_archive`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from . import http_ranges, settings, stac_routes
from .catalog import S2_L2A, ProductRecord, footprint, products_in
from .errors import not_found
from .origin import request_origin
from .safe_archive import TARGET_BYTES, SafeArchive, default_cache_dir, quicklook_jpeg
from .safe_metadata import TEMPLATES, fill
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
TOKEN_LIFETIME = 600  # seconds, as CDSE's access tokens
_UUID_NAMESPACE = uuid.UUID("6f1c1b0e-4f39-4c55-9d36-0c1d6b1e2a14")  # invented, fixed
_TEMPLATE = json.loads((TEMPLATES / "cdse_stac.json").read_text(encoding="utf-8"))

_SAFE_RECORDS = tuple(products_in(S2_L2A))
"""Every Sentinel-2 L2A product of the sample catalogue, of every date."""


def odata_uuid(kind: str, product_id: str) -> str:
    """The OData identifier of a product's SAFE (``kind`` "Products") or quicklook ("Assets"):
    the seed's published ones for its product, fixed invented ones (UUID 5) for every other."""
    if product_id == PRODUCT_ID:
        return PRODUCT_UUID if kind == "Products" else QUICKLOOK_UUID
    name = product_id if kind == "Products" else f"quicklook:{product_id}"
    return str(uuid.uuid5(_UUID_NAMESPACE, name))


_ODATA_VALUE = re.compile(r"^(Products|Assets)\(([0-9a-fA-F-]{36})\)/\$value$")
_BY_UUID = {(k, odata_uuid(k, r.id)): r for r in _SAFE_RECORDS for k in ("Products", "Assets")}


def _odata_target(entity: str) -> tuple[str, str, ProductRecord] | None:
    """Kind, lower-case identifier and product of an OData ``<Kind>(<uuid>)/$value`` path."""
    match = _ODATA_VALUE.match(entity)
    key = (match[1], match[2].lower()) if match else None
    return (*key, _BY_UUID[key]) if key in _BY_UUID else None


@dataclass
class _State:
    """Per-application state: issued tokens and the (lazily built) archives."""

    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    archives: dict[str, SafeArchive] = field(default_factory=dict)  # by product id
    cache_dir: Path | None = None
    target_bytes: int | None = None


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


def _filled(value: Any, values: Mapping[str, Any]) -> Any:
    """A part of ``cdse_stac.json`` with every string filled (`safe_metadata.fill`)."""
    if isinstance(value, dict):
        return {key: _filled(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, values) for item in value]
    return fill(value, values) if isinstance(value, str) else value


def _item(entry: Entry, root: str) -> dict[str, Any]:
    """The SAFE item as the legacy CDSE catalogue served it, with links on ``root``."""
    record = entry.record
    bbox, geometry = footprint(record)
    values = {
        **vars(record),  # start_datetime, platform, mgrs_tile, cloud_cover, orbits
        "root": root,
        "collection_id": COLLECTION_ID,
        "item_id": entry.id,
        "bbox": bbox,
        "geometry": geometry,
        "day": record.start_datetime[:10].replace("-", "/"),
        "product_uuid": odata_uuid("Products", record.id),
        "quicklook_uuid": odata_uuid("Assets", record.id),
    }
    return _filled(_TEMPLATE["item"], values)


SAFE_CATALOGUE = Catalogue(
    landing=_TEMPLATE["landing"],
    collections=lambda root: [
        _filled(_TEMPLATE["collection"], {"root": root, "collection_id": COLLECTION_ID})
    ],
    entries=tuple(Entry(f"{r.id}.SAFE", COLLECTION_ID, r) for r in _SAFE_RECORDS),
    build_item=_item,
)
"""The legacy CDSE catalogue the seed searched: one collection, a SAFE for every L2A product
of the sample catalogue (CDSE's archive does not roll: products of every date stay)."""


# --- OData: redirect, download, quicklook ---------------------------------------------------------


async def catalogue_odata(request: web.Request) -> web.StreamResponse:
    """The catalogue's OData links: ``Products(...)/$value`` redirects to the download service,
    ``Assets(...)/$value`` is the quicklook."""
    entity = request.match_info["entity"]
    target = _odata_target(entity)
    if target is None:
        raise not_found(f"No product or asset at {entity}.")
    kind, uuid_text, record = target
    if kind == "Products":
        raise web.HTTPFound(f"{request_origin(request)}/odata/v1/Products({uuid_text})/$value")
    body = await asyncio.get_running_loop().run_in_executor(None, quicklook_jpeg, record)
    return web.Response(body=body, content_type="image/jpeg")


def _archive(app: web.Application, record: ProductRecord) -> SafeArchive:
    state = app[STATE]
    with state.lock:
        if record.id not in state.archives:
            state.archives[record.id] = SafeArchive(
                record, state.cache_dir or default_cache_dir(), state.target_bytes or TARGET_BYTES
            )
        return state.archives[record.id]


async def download(request: web.Request) -> web.StreamResponse:
    """The download service: the SAFE zip, for a valid bearer token only.

    A ``Range`` request gets that part (206), so a client whose connection broke resumes
    where it stopped; the ``ETag`` names the archive's content, so ``If-Range`` makes sure
    the parts come from one and the same archive.
    """
    entity = request.match_info["entity"]
    target = _odata_target(entity)
    if target is None or target[0] != "Products":
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
    archive = _archive(request.app, target[2])
    stored = await asyncio.get_running_loop().run_in_executor(None, archive.ensure)
    return await http_ranges.respond(
        request,
        stored,
        "application/zip",
        headers={"Content-Disposition": f'attachment; filename="{archive.filename}"'},
        etag=archive_etag(archive),
        several=False,
        stream_over=0,  # every body streamed: faults pace and cut it block by block
    )


def archive_etag(archive: SafeArchive) -> str:
    """The archive's entity tag: a digest of its cache key, which decides its every byte."""
    return '"' + hashlib.sha256(archive.key.encode("utf-8")).hexdigest()[:32] + '"'
