"""HTTP routes of a STAC API: one set of route helpers for every catalogue the service serves.

Why this module exists: `stac_api` is plain functions of (catalogue, base URL, parameters);
this module maps them to URLs below a prefix (``""`` for the EOPF catalogue, ``/safe-stac``
for the SAFE replica's), with the JSON error convention of `errors.StacApiError` applied by
`json_errors` to every handler, so an application without the service's middleware (a test's)
answers errors the same way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import openapi, stac_api
from .errors import StacApiError, bad_request
from .openapi import Operation
from .origin import request_origin
from .stac_api import GEOJSON, Catalogue

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_errors(handler: Handler) -> Handler:
    """``handler``, answering a `StacApiError` as its JSON body with its status."""

    @functools.wraps(handler)
    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except StacApiError as error:
            return web.json_response(error.body(), status=error.status)

    return answer


def add_routes(app: web.Application, prefix: str, cat: Catalogue) -> None:
    """Serve ``cat`` below ``prefix`` (``""``: at the root) on ``app``."""

    def base(request: web.Request) -> str:
        return request_origin(request) + prefix

    def info(request: web.Request, name: str) -> str:
        return request.match_info[name]

    async def landing(request: web.Request) -> web.Response:
        return _json(stac_api.landing_page(base(request), cat))

    async def conformance(request: web.Request) -> web.Response:
        return _json(stac_api.conformance(cat))

    async def queryables(request: web.Request) -> web.Response:
        collection_id = request.match_info.get("collection_id")
        body = stac_api.queryables(base(request), collection_id, cat)
        return _json(body, "application/schema+json")

    async def collections(request: web.Request) -> web.Response:
        return _json(stac_api.collections_page(base(request), cat))

    async def collection(request: web.Request) -> web.Response:
        return _json(stac_api.collection(base(request), info(request, "collection_id"), cat))

    async def items(request: web.Request) -> web.Response:
        query = _single_values(request)
        page = _not_too_deep(
            stac_api.collection_items, base(request), info(request, "collection_id"), query, cat
        )
        return _json(page, GEOJSON)

    async def item(request: web.Request) -> web.Response:
        found = stac_api.item(
            base(request), info(request, "collection_id"), info(request, "item_id"), cat
        )
        return _json(found, GEOJSON)

    async def search_get(request: web.Request) -> web.Response:
        page = _not_too_deep(stac_api.search_get, base(request), _single_values(request), cat)
        return _json(page, GEOJSON)

    async def search_post(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = _not_too_deep(json.loads, raw) if raw else {}
        except (ValueError, UnicodeDecodeError):
            raise bad_request("The search body is not valid JSON.") from None
        return _json(_not_too_deep(stac_api.search_post, base(request), body, cat), GEOJSON)

    async def api(request: web.Request) -> web.Response:
        return _json(describe(base(request)), openapi.OPENAPI_MEDIA)

    async def api_html(request: web.Request) -> web.Response:
        return web.Response(
            text=openapi.html_page(describe(base(request))), content_type="text/html"
        )

    search_query, items_query = cat.search_parameters, cat.items_parameters
    routes: list[tuple[Operation, Handler]] = [
        (Operation("GET", "/", "Landing page"), landing),
        (Operation("GET", "/conformance", "Conformance classes"), conformance),
        (Operation("GET", "/collections", "Every collection"), collections),
        (Operation("GET", "/collections/{collection_id}", "One collection"), collection),
        (
            Operation(
                "GET",
                "/collections/{collection_id}/items",
                "Items of a collection",
                GEOJSON,
                items_query,
            ),
            items,
        ),
        (
            Operation("GET", "/collections/{collection_id}/items/{item_id}", "One item", GEOJSON),
            item,
        ),
        (Operation("GET", "/search", "Item search", GEOJSON, search_query), search_get),
        (Operation("POST", "/search", "Item search", GEOJSON, body=True), search_post),
        (Operation("GET", "/api", "This OpenAPI document", openapi.OPENAPI_MEDIA), api),
        (Operation("GET", "/api.html", "This API's documentation", "text/html"), api_html),
    ]
    if cat.queryables is not None:
        queryables_media = "application/schema+json"
        routes.append((Operation("GET", "/queryables", "Queryables", queryables_media), queryables))
        routes.append(
            (
                Operation(
                    "GET",
                    "/collections/{collection_id}/queryables",
                    "Queryables of a collection",
                    queryables_media,
                ),
                queryables,
            )
        )

    def describe(base_url: str) -> dict[str, Any]:
        return openapi.document(cat.landing["title"], base_url, (op for op, _ in routes))

    if prefix:  # the catalogue's root without its slash: not a route of its own in the doc
        app.router.add_get(prefix, json_errors(landing))
    for op, handler in routes:
        if op.method == "GET":  # GET also answers HEAD (aiohttp's allow_head)
            app.router.add_get(prefix + op.path, json_errors(handler))
        else:
            app.router.add_route(op.method, prefix + op.path, json_errors(handler))


def _json(data: Any, content_type: str = "application/json") -> web.Response:
    return web.json_response(data, content_type=content_type)


def _not_too_deep(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``; JSON nested deeper than Python recursion allows is a 400, not a 500.

    Both the JSON decoder and the CQL2/GeoJSON checks recurse once per level of nesting, so a
    body (or a ``filter``/``intersects`` parameter) of a few thousand brackets would otherwise
    end in a RecursionError.
    """
    try:
        return function(*args)
    except RecursionError:
        raise bad_request("The search is nested too deeply.") from None


def _single_values(request: web.Request) -> dict[str, str]:
    """Query parameters, the last value winning when one is repeated."""
    return dict(request.query.items())
