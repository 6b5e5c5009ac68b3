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
import functools
import hashlib
import json
import re
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from . import http_ranges, settings, stac_routes
from .catalog import S2_L2A, ProductRecord, footprint, products_in
from .errors import not_found
from .origin import request_origin
from .safe_archive import TARGET_BYTES, SafeArchive, quicklook_jpeg
from .safe_metadata import TEMPLATES, fill
from .stac_api import Catalogue, Entry

PRODUCT_UUID = "74252cb9-3567-4a49-8892-40f3a80ac52e"  # as the seed's printed download URL
QUICKLOOK_UUID = "c0a5d1e2-35f1-4f6b-9d6c-0b7f3f1e9a41"  # of the seed product's (invented)
TOKEN_LIFETIME = 600  # seconds, as CDSE's access tokens
_UUID_NAMESPACE = uuid.UUID("6f1c1b0e-4f39-4c55-9d36-0c1d6b1e2a14")  # invented, fixed
_TEMPLATE = json.loads((TEMPLATES / "cdse_stac.json").read_text(encoding="utf-8"))
_SAFE_RECORDS = tuple(products_in(S2_L2A))  # every L2A product of the catalogue, of every date


def odata_uuid(kind: str, product_id: str) -> str:
    """The OData identifier of a product's SAFE (``kind`` "Products") or quicklook ("Assets"):
    the seed's published ones for its product, fixed invented ones (UUID 5) for every other."""
    if product_id == settings.SAFE_PRODUCT_ID:
        return PRODUCT_UUID if kind == "Products" else QUICKLOOK_UUID
    name = product_id if kind == "Products" else f"quicklook:{product_id}"
    return str(uuid.uuid5(_UUID_NAMESPACE, name))


_ODATA_VALUE = re.compile(r"(Products|Assets)\(([0-9a-fA-F-]{36})\)/\$value")
_BY_UUID = {(k, odata_uuid(k, r.id)): r for r in _SAFE_RECORDS for k in ("Products", "Assets")}


def _odata_target(
    request: web.Request, kinds: tuple[str, ...] = ("Products", "Assets")
) -> tuple[str, str, ProductRecord]:
    """Kind, lower-case identifier and product of the OData path ``<Kind>(<uuid>)/$value``."""
    entity = request.match_info["entity"]
    match = _ODATA_VALUE.fullmatch(entity)
    key = (match[1], match[2].lower()) if match else None
    if key not in _BY_UUID or key[0] not in kinds:
        raise not_found(f"No product{' or asset' if len(kinds) > 1 else ''} at {entity}.")
    return *key, _BY_UUID[key]


def setup(
    app: web.Application, *, cache_dir: Path | None = None, target_bytes: int | None = None
) -> None:
    """Register the SAFE routes on ``app`` (``app.py`` calls it).

    ``cache_dir`` and ``target_bytes`` (archive size) are for tests: by default the archive is
    cached in ``settings.cache_dir("safe")`` and is as large as the seed's.
    """
    service = _Service(cache_dir or settings.cache_dir("safe"), target_bytes or TARGET_BYTES)
    app.router.add_post(settings.TOKEN_PATH, service.token)
    stac_routes.add_routes(app, settings.SAFE_STAC_PREFIX, SAFE_CATALOGUE)
    odata = stac_routes.json_errors(catalogue_odata)
    app.router.add_get(f"{settings.SAFE_STAC_PREFIX}/odata/v1/{{entity:.*}}", odata)
    app.router.add_get("/odata/v1/{entity:.*}", stac_routes.json_errors(service.download))


def _refusal(form: Any) -> tuple[int, str, str] | None:
    """Why the identity service refuses a token request (status, OAuth error, description)."""
    if not form.get("grant_type"):
        return 400, "invalid_request", "Missing form parameter: grant_type"
    if form["grant_type"] != "password":
        return 400, "unsupported_grant_type", "Unsupported grant_type"
    if form.get("client_id") != settings.CLIENT_ID:
        return 401, "invalid_client", "Invalid client or Invalid client credentials"
    given = (form.get("username"), form.get("password"))
    if given != (settings.SAMPLE_USERNAME, settings.SAMPLE_PASSWORD):
        return 401, "invalid_grant", "Invalid user credentials"
    return None


class _Service:
    """The identity and download services of one application: the tokens they issued and the
    archives they serve. Their handlers run on one event loop, so they need no lock."""

    def __init__(self, cache_dir: Path, target_bytes: int) -> None:
        self.tokens: dict[str, float] = {}  # token -> expiry (monotonic clock)
        self.archive = functools.cache(lambda r: SafeArchive(r, cache_dir, target_bytes))

    async def token(self, request: web.Request) -> web.Response:
        """Issue a bearer token for the sample credentials (OpenID-Connect password grant).

        A refusal carries Keycloak's OAuth 2.0 ``error`` and ``error_description``, which
        clients of the identity service read, and the service's own ``code`` and ``description``.
        """
        refusal = _refusal(await request.post())
        if refusal is not None:
            status, error, text = refusal
            body = {"error": error, "error_description": text, "code": error, "description": text}
            return web.json_response(body, status=status)
        issued, now = secrets.token_urlsafe(32), time.monotonic()
        for expired in [t for t, expiry in self.tokens.items() if expiry <= now]:
            del self.tokens[expired]
        self.tokens[issued] = now + TOKEN_LIFETIME
        # The fields of the CDSE identity service's (Keycloak's) answer, in its order; the
        # book's clients read only access_token, but a reader who prints it sees the real shape.
        body = {
            "access_token": issued,
            "expires_in": TOKEN_LIFETIME,
            "refresh_expires_in": 3600,
            "refresh_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": secrets.token_hex(16),
            "scope": "AUDIENCE_PUBLIC openid email profile user-context",
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def download(self, request: web.Request) -> web.StreamResponse:
        """The download service: the SAFE zip, for a valid bearer token only.

        A ``Range`` request gets that part (206), so a client whose connection broke resumes
        where it stopped; the ``ETag`` (a digest of the archive's cache key, which decides its
        every byte) makes ``If-Range`` ensure that the parts come from one and the same archive.
        """
        *_, record = _odata_target(request, ("Products",))
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.tokens.get(value.strip(), 0) <= time.monotonic():
            return web.json_response(
                {
                    "code": "NotAuthenticated",
                    "description": "Not authenticated: send "
                    "'Authorization: Bearer <access_token>'.",
                    "detail": "Not authenticated",
                },
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        archive = self.archive(record)
        stored = await asyncio.get_running_loop().run_in_executor(None, archive.ensure)
        return await http_ranges.respond(
            request,
            stored,
            "application/zip",
            headers={"Content-Disposition": f'attachment; filename="{archive.filename}"'},
            etag='"' + hashlib.sha256(archive.key.encode("utf-8")).hexdigest()[:32] + '"',
        )


# --- STAC catalogue -----------------------------------------------------------------------------


def _item(entry: Entry, root: str) -> dict[str, Any]:
    """The SAFE item as the legacy CDSE catalogue served it, with links on ``root``."""
    record = entry.record
    bbox, geometry = footprint(record)
    values = {
        **vars(record),  # start_datetime, platform, mgrs_tile, cloud_cover, orbits
        "root": root,
        "collection_id": settings.SAFE_COLLECTION_ID,
        "item_id": entry.id,
        "bbox": bbox,
        "geometry": geometry,
        "day": record.start_datetime[:10].replace("-", "/"),
        "product_uuid": odata_uuid("Products", record.id),
        "quicklook_uuid": odata_uuid("Assets", record.id),
    }
    return fill(_TEMPLATE["item"], values)


SAFE_CATALOGUE = Catalogue(
    landing=_TEMPLATE["landing"],
    collections=lambda root: [
        fill(_TEMPLATE["collection"], {"root": root, "collection_id": settings.SAFE_COLLECTION_ID})
    ],
    entries=tuple(Entry(f"{r.id}.SAFE", settings.SAFE_COLLECTION_ID, r) for r in _SAFE_RECORDS),
    build_item=_item,
)
"""The legacy CDSE catalogue the seed searched: one collection, a SAFE for every L2A product
of the sample catalogue (CDSE's archive does not roll: products of every date stay)."""


# --- OData: redirect, download, quicklook ---------------------------------------------------------


async def catalogue_odata(request: web.Request) -> web.StreamResponse:
    """The catalogue's OData links: ``Products(...)/$value`` redirects to the download service,
    ``Assets(...)/$value`` is the quicklook."""
    kind, uuid_text, record = _odata_target(request)
    if kind == "Products":
        raise web.HTTPFound(f"{request_origin(request)}/odata/v1/Products({uuid_text})/$value")
    body = await asyncio.get_running_loop().run_in_executor(None, quicklook_jpeg, record)
    return web.Response(body=body, content_type="image/jpeg")
