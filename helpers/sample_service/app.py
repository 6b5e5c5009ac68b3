"""The sample service's HTTP application: routes only, wiring the parts below to URLs.

Why this module exists: the STAC side (`stac_api`), the Zarr side
(`zarr_store`) and the SAFE replica (`safe`, optional) are plain Python; this
module is the one place that knows HTTP. It maps the live service's URL layout
onto them, answers every error as JSON (stac-fastapi style), serves Zarr keys
with ``Content-Length`` and single byte ranges (fsspec may ask for ranges),
identifies itself in the ``Server`` header (so the launcher can tell it from
another program on the port) and tracks activity (so a background instance can
exit when idle).

The service never reads a file named by a URL: a Zarr key is looked up in the
product's store, which generates or caches its bytes. Keys that are not plain
store keys (``..``, encoded dots, backslashes, empty segments) are 404 before
any lookup.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from . import catalog, stac_api
from .origin import request_origin

log = logging.getLogger("helpers.sample_service")

SERVICE_NAME = "eopf-sample-service"
MAX_BODY_BYTES = 1024 * 1024  # search bodies are a few kB; anything bigger is refused (413)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


class Store(Protocol):
    """What the Zarr route needs of a product store (`zarr_store.ProductStore`)."""

    def get(self, key: str) -> bytes | None: ...


StoreOpener = Callable[[str], Store | None]


def service_version() -> str:
    """The installed helpers' version, shown in the ``Server`` header."""
    try:
        return importlib.metadata.version("eopf-zarr-book-helpers")
    except importlib.metadata.PackageNotFoundError:
        return "0"


SERVER_HEADER = f"{SERVICE_NAME}/{service_version()}"


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
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)


def build_app(
    *, faults: Middleware | None = None, stores: StoreOpener | None = None
) -> web.Application:
    """The aiohttp application of the sample service.

    ``faults``: an aiohttp middleware that may delay, fail or cut responses
    (fault injection for the reliability tests; `faults.py` provides it). It runs
    outside the JSON error handling, so its answers reach the client unchanged.
    Without it, ``EOPF_SAMPLE_FAULTS`` (see `faults`) may switch faults on.
    ``stores``: product id -> store (default: `zarr_store.open_store`, imported on
    first use); tests pass a stand-in.
    """
    middlewares: list[Middleware] = [_track_activity]
    if faults is None:
        faults = _faults_from_env()
    if faults is not None:
        middlewares.append(faults)
    middlewares.append(_json_errors)
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    app[ACTIVITY] = Activity()
    app[STORES] = stores or _open_product_store
    app[EXECUTOR] = ThreadPoolExecutor(
        max_workers=max(4, os.cpu_count() or 1), thread_name_prefix="zarr-store"
    )
    app.on_response_prepare.append(_identify)
    app.on_cleanup.append(_stop_executor)

    app.router.add_get("/", _landing)
    app.router.add_get("/conformance", _conformance)
    app.router.add_get("/queryables", _queryables)
    app.router.add_get("/collections", _collections)
    app.router.add_get("/collections/{collection_id}", _collection)
    app.router.add_get("/collections/{collection_id}/queryables", _collection_queryables)
    app.router.add_get("/collections/{collection_id}/items", _items)
    app.router.add_get("/collections/{collection_id}/items/{item_id}", _item)
    app.router.add_get("/search", _search_get)
    app.router.add_post("/search", _search_post)
    # GET also answers HEAD (aiohttp's allow_head), which fsspec uses for sizes.
    app.router.add_get(
        "/objects/{bucket}/{day}/products/{cpm}/{product_id}.zarr/{key:.*}", _zarr_object
    )

    # --- Hook: the SAFE replica --------------------------------------------------
    # `safe.py` (written separately) adds its token, catalogue and download routes
    # through `setup(app)`. It is optional: the service works without it.
    if importlib.util.find_spec(f"{__package__}.safe") is not None:
        from . import safe

        safe.setup(app)
    return app


# --- Middleware and signals ----------------------------------------------------------


def _faults_from_env() -> Middleware | None:
    """The fault middleware ``EOPF_SAMPLE_FAULTS`` asks for, announced in the log; or None."""
    from . import faults

    spec = faults.from_env()
    if spec is None:
        return None
    log.warning("Fault injection on (%s): %s", faults.ENV_VAR, spec.describe())
    return spec.middleware()


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
    except stac_api.StacApiError as error:
        body = error.body()
        # Descriptions may quote the reader's input: keep them one line whatever it held.
        body["description"] = " ".join(body["description"].split())
        return web.json_response(body, status=error.status)
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise  # redirects, and errors that already carry a JSON body
        code = _ERROR_CODES.get(error.status, "HTTPError")
        body = {"code": code, "description": error.reason}
        response = web.json_response(body, status=error.status)
        if "Allow" in error.headers:  # 405 names the methods that would work
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("Unexpected error answering %s %s", request.method, request.path)
        return web.json_response(
            {"code": "InternalServerError", "description": "Unexpected server error."},
            status=500,
        )


async def _identify(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_HEADER


async def _stop_executor(app: web.Application) -> None:
    app[EXECUTOR].shutdown(wait=False, cancel_futures=True)


# --- STAC routes ---------------------------------------------------------------------


def _json(data: Any, content_type: str = "application/json") -> web.Response:
    return web.json_response(data, content_type=content_type)


async def _landing(request: web.Request) -> web.Response:
    return _json(stac_api.landing_page(request_origin(request)))


async def _conformance(request: web.Request) -> web.Response:
    return _json(stac_api.conformance())


async def _queryables(request: web.Request) -> web.Response:
    return _json(stac_api.queryables(request_origin(request)), "application/schema+json")


async def _collection_queryables(request: web.Request) -> web.Response:
    body = stac_api.queryables(request_origin(request), request.match_info["collection_id"])
    return _json(body, "application/schema+json")


async def _collections(request: web.Request) -> web.Response:
    return _json(stac_api.collections_page(request_origin(request)))


async def _collection(request: web.Request) -> web.Response:
    return _json(stac_api.collection(request_origin(request), request.match_info["collection_id"]))


async def _items(request: web.Request) -> web.Response:
    body = _not_too_deep(
        stac_api.collection_items,
        request_origin(request),
        request.match_info["collection_id"],
        _single_values(request),
    )
    return _json(body, stac_api.GEOJSON)


async def _item(request: web.Request) -> web.Response:
    body = stac_api.item(
        request_origin(request), request.match_info["collection_id"], request.match_info["item_id"]
    )
    return _json(body, stac_api.GEOJSON)


async def _search_get(request: web.Request) -> web.Response:
    body = _not_too_deep(stac_api.search_get, request_origin(request), _single_values(request))
    return _json(body, stac_api.GEOJSON)


async def _search_post(request: web.Request) -> web.Response:
    raw = await request.read()
    try:
        body = _not_too_deep(json.loads, raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        raise stac_api.bad_request("The search body is not valid JSON.") from None
    answer = _not_too_deep(stac_api.search_post, request_origin(request), body)
    return _json(answer, stac_api.GEOJSON)


def _not_too_deep(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``; JSON nested deeper than Python recursion allows is a 400, not a 500.

    Both the JSON decoder and the CQL2/GeoJSON checks recurse once per level of nesting, so a
    body (or a ``filter``/``intersects`` parameter) of a few thousand brackets would otherwise
    end in a RecursionError.
    """
    try:
        return function(*args)
    except RecursionError:
        raise stac_api.bad_request("The search is nested too deeply.") from None


def _single_values(request: web.Request) -> dict[str, str]:
    """Query parameters, the last value winning when one is repeated."""
    return dict(request.query.items())


# --- Zarr route ----------------------------------------------------------------------

_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]+")
_METADATA_KEYS = {".zmetadata", ".zattrs", ".zgroup", ".zarray"}


def is_store_key(key: str) -> bool:
    """A plain relative store key: segments of letters, digits, ``_ . -``; no ``.``/``..``.

    Rejects every traversal form before any lookup: ``..`` (also once decoded
    from ``%2e%2e``), a ``%`` left by double encoding, backslashes, absolute
    paths and empty segments.
    """
    parts = key.split("/")
    return all(_KEY_SEGMENT.fullmatch(p) and p not in (".", "..") for p in parts)


async def _zarr_object(request: web.Request) -> web.Response:
    info = request.match_info
    product_id, key = info["product_id"], info["key"]
    record = catalog.get_product(product_id)
    requested = f"objects/{info['bucket']}/{info['day']}/products/{info['cpm']}/{product_id}.zarr"
    if record is None or catalog.product_path(record) != requested or not is_store_key(key):
        raise web.HTTPNotFound(reason="No such object.")
    loop = asyncio.get_running_loop()
    data = await loop.run_in_executor(
        request.app[EXECUTOR], _read_key, request.app[STORES], product_id, key
    )
    if data is None:
        raise web.HTTPNotFound(reason="No such object.")
    content_type = (
        "application/json"
        if key.rsplit("/", 1)[-1] in _METADATA_KEYS
        else "application/octet-stream"
    )
    return _maybe_ranged(request, data, content_type)


def _read_key(stores: StoreOpener, product_id: str, key: str) -> bytes | None:
    """Blocking: open the product's store (memoised there) and read one key."""
    store = stores(product_id)
    return None if store is None else store.get(key)


def _open_product_store(product_id: str) -> Store | None:
    from . import zarr_store  # imported on first use: it loads numpy, numcodecs and templates

    return zarr_store.open_store(product_id)


def _maybe_ranged(request: web.Request, data: bytes, content_type: str) -> web.Response:
    """200 with the whole object, or 206 for a single satisfiable ``Range: bytes=a-b``."""
    headers = {"Accept-Ranges": "bytes"}
    try:
        wanted = request.http_range
    except ValueError:  # malformed or multi-range: ignored, as RFC 9110 allows
        wanted = slice(None, None)
    if wanted.start is None and wanted.stop is None:
        return web.Response(body=data, content_type=content_type, headers=headers)
    size = len(data)
    start = wanted.start if wanted.start >= 0 else max(0, size + wanted.start)
    stop = size if wanted.stop is None else min(wanted.stop, size)
    if start >= size or start >= stop:
        headers["Content-Range"] = f"bytes */{size}"
        body = {"code": "RangeNotSatisfiable", "description": f"The object has {size} bytes."}
        return web.json_response(body, status=416, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return web.Response(
        status=206, body=data[start:stop], content_type=content_type, headers=headers
    )
