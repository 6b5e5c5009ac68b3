"""The sample service's HTTP application: routes only, wiring the parts below to URLs.

It maps the live service's URL layout onto the STAC side (`stac_api`, `stac_routes`), the Zarr
stores (`zarr_store`, `zarr3_store`, served with byte ranges by `http_ranges`) and the SAFE
replica (`safe`); answers every error as JSON (stac-fastapi style); names itself in the
``Server`` header (so the launcher can tell it from another program on the port) and tracks
activity (so a background instance can exit when idle). A URL never names a file: a Zarr key
is looked up in its store, and keys that are not plain store keys are 404 before any lookup.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from . import (
    catalog,
    http_ranges,
    safe,
    settings,
    stac_api,
    stac_routes,
    zarr3_catalog,
    zarr3_store,
    zarr_store,
)
from . import faults as fault_specs
from .faults import Handler, Middleware
from .settings import SERVICE_NAME

log = logging.getLogger("helpers.sample_service")

MAX_BODY_BYTES = 1024 * 1024  # search bodies are a few kB; anything bigger is refused (413)


class Store(Protocol):
    """What the Zarr route needs of a store: the object under a key, in memory or in a file."""

    def get(self, key: str) -> bytes | http_ranges.Blob | None: ...


StoreOpener = Callable[[str], Store | None]


try:
    _VERSION = importlib.metadata.version("eopf-zarr-book-helpers")
except importlib.metadata.PackageNotFoundError:
    _VERSION = "0"
SERVER_HEADER = f"{SERVICE_NAME}/{_VERSION}"
"""The ``Server`` header: the service's name and the installed helpers' version."""


@dataclass
class Activity:
    """When the service last finished a request and how many are in flight."""

    last: float = field(default_factory=time.monotonic)
    active: int = 0

    def idle_seconds(self) -> float:
        """Seconds since the last request ended; 0 while any request is running."""
        return 0.0 if self.active else time.monotonic() - self.last


ACTIVITY = web.AppKey("activity", Activity)
STORES = web.AppKey("stores", StoreOpener)
ZARR3_STORES = web.AppKey("zarr3_stores", StoreOpener)


def build_app(
    *, faults: Middleware | None = None, stores: StoreOpener | None = None
) -> web.Application:
    """The aiohttp application of the sample service.

    ``faults``: a middleware that may delay, fail or cut answers (default: the one
    ``EOPF_SAMPLE_FAULTS`` asks for, see `faults`); it runs outside the JSON error handling, so
    its answers reach the client unchanged. ``stores``: product id -> v2 store (default:
    `zarr_store.open_store`); tests pass a stand-in.
    """
    if faults is None and (spec := fault_specs.from_env()) is not None:
        log.warning("Fault injection on (%s): %s", settings.FAULTS_VAR, spec.describe())
        faults = spec.middleware()
    middlewares = [_track_activity, *([faults] if faults else []), _json_errors]
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    app[ACTIVITY] = Activity()
    app[STORES] = stores or zarr_store.open_store
    app[ZARR3_STORES] = zarr3_store.open_zarr3_store
    app.on_response_prepare.append(_identify)

    stac_routes.add_routes(app, "", stac_api.EOPF)
    # Every supported date below its own root, so one process serves them all and a service
    # started for one date can be reused for another (the launcher reuses what it finds).
    for date in settings.SUPPORTED_DATES:
        stac_routes.add_routes(app, settings.date_prefix(date), stac_api.eopf_catalogue(date))
    safe.setup(app)
    # GET also answers HEAD (aiohttp's allow_head), which fsspec uses for sizes. Stores of
    # every CPM version: objects.eodc.eu's layout below /objects, data.eodc.eu's below /data.
    # A dated root serves only the stores its catalogue holds: a product the rolling archive
    # has dropped answers 404, as its old href does live.
    store = r"{store:(?:objects|data)/[A-Za-z0-9_./\-]+?\.zarr}/{key:.*}"
    app.router.add_get(f"/{store}", _zarr_object)
    dates = "|".join(re.escape(d) for d in settings.SUPPORTED_DATES)
    app.router.add_get(f"/{{date:{dates}}}/{store}", _zarr_object)
    return app


# --- Middleware and signals ----------------------------------------------------------


@web.middleware
async def _track_activity(request: web.Request, handler: Handler) -> web.StreamResponse:
    activity = request.app[ACTIVITY]
    activity.active += 1
    try:
        return await handler(request)
    finally:
        activity.active -= 1
        activity.last = time.monotonic()


_ERROR_CODES = {404: "NotFoundError", 405: "MethodNotAllowed", 413: "RequestEntityTooLarge"}


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as a JSON body, never an HTML page or a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise  # redirects, and errors that already carry a JSON body
        code = _ERROR_CODES.get(error.status, "HTTPError")
        body = {"code": code, "description": error.reason}
        response = web.json_response(body, status=error.status)
        if "Allow" in error.headers:  # 405 names the methods that would work
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except ConnectionResetError:  # the client left, or a fault cut the body: nothing to answer
        raise
    except Exception:
        log.exception("Unexpected error answering %s %s", request.method, request.path)
        return web.json_response(
            {"code": "InternalServerError", "description": "Unexpected server error."},
            status=500,
        )


async def _identify(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_HEADER


# --- Zarr route ----------------------------------------------------------------------

_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]+")
_METADATA_KEYS = {".zmetadata", ".zattrs", ".zgroup", ".zarray", "zarr.json"}


def is_store_key(key: str) -> bool:
    """A plain relative store key: segments of letters, digits, ``_ . -``; no ``.``/``..``.

    Rejects every traversal form before any lookup: ``..`` (also once decoded
    from ``%2e%2e``), a ``%`` left by double encoding, backslashes, absolute
    paths and empty segments.
    """
    parts = key.split("/")
    return all(_KEY_SEGMENT.fullmatch(p) and p not in (".", "..") for p in parts)


async def _zarr_object(request: web.Request) -> web.StreamResponse:
    info = request.match_info
    requested, key = info["store"], info["key"]
    product_id = requested.rsplit("/", 1)[-1].removesuffix(".zarr")
    date = info.get("date", settings.TUTORIAL_DATE)
    stores = _stores_of(request.app, requested, product_id, date) if is_store_key(key) else None
    blob = None
    if stores is not None:  # off the event loop: a chunk or shard may be made first
        loop = asyncio.get_running_loop()
        blob = await loop.run_in_executor(None, _read_key, stores, product_id, key)
    if blob is None:
        raise web.HTTPNotFound(reason="No such object.")
    metadata = key.rsplit("/", 1)[-1] in _METADATA_KEYS
    return await http_ranges.respond(
        request, blob, "application/json" if metadata else "application/octet-stream"
    )


def _stores_of(
    app: web.Application, requested: str, product_id: str, date: str
) -> StoreOpener | None:
    """The stores holding the product at store path ``requested`` on ``date``, or None."""
    if zarr3_catalog.record_at(requested, date) is not None:  # a staging (Zarr v3) copy
        return app[ZARR3_STORES]
    record = catalog.get_product(product_id)
    held = record is not None and catalog.held_on(record, date)
    return app[STORES] if held and catalog.product_path(record) == requested else None


def _read_key(stores: StoreOpener, product_id: str, key: str) -> http_ranges.Blob | None:
    """Blocking: open the store (memoised there) and find one key (a chunk or shard may be
    made here)."""
    store = stores(product_id)
    found = None if store is None else store.get(key)
    return http_ranges.BytesBlob(found) if isinstance(found, bytes) else found
