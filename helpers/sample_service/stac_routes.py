"""HTTP routes of a STAC API: one route table, one generic handler, for every catalogue served.

`stac_api` is plain functions of (catalogue, base URL, parameters); this module maps them to
URLs below a prefix (``""``: the EOPF catalogue, ``/safe-stac``: the SAFE replica's). Every
handler answers a `StacApiError` itself (`json_errors`), so a test's bare application does too.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import openapi, stac_api
from .errors import StacApiError, bad_request
from .openapi import Operation
from .origin import request_origin
from .stac_api import GEOJSON, Catalogue

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Asked:
    """What a route's answer depends on: API root, path parameters, query string, JSON body."""

    base: str
    path: Mapping[str, str]
    query: dict[str, str]
    body: Any


Answer = Callable[[Asked], Any]
"""A route's answer: JSON data, or the text of a page."""


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
    api, schema, one = stac_api, "application/schema+json", "/collections/{collection_id}"

    def describe(base_url: str) -> dict[str, Any]:
        return openapi.document(cat.landing["title"], base_url, (op for op, _ in routes))

    def queryables(asked: Asked) -> dict[str, Any]:
        return api.queryables(asked.base, asked.path.get("collection_id"), cat)

    routes: list[tuple[Operation, Answer]] = [
        (Operation("GET", "/", "Landing page"), lambda a: api.landing_page(a.base, cat)),
        (Operation("GET", "/conformance", "Conformance classes"), lambda a: api.conformance(cat)),
        (
            Operation("GET", "/collections", "Every collection"),
            lambda a: api.collections_page(a.base, cat),
        ),
        (
            Operation("GET", one, "One collection"),
            lambda a: api.collection(a.base, a.path["collection_id"], cat),
        ),
        (
            Operation(
                "GET", one + "/items", "Items of a collection", GEOJSON, cat.items_parameters
            ),
            lambda a: api.collection_items(a.base, a.path["collection_id"], a.query, cat),
        ),
        (
            Operation("GET", one + "/items/{item_id}", "One item", GEOJSON),
            lambda a: api.item(a.base, a.path["collection_id"], a.path["item_id"], cat),
        ),
        (
            Operation("GET", "/search", "Item search", GEOJSON, cat.search_parameters),
            lambda a: api.search_get(a.base, a.query, cat),
        ),
        (
            Operation("POST", "/search", "Item search", GEOJSON, body=True),
            lambda a: api.search_post(a.base, a.body, cat),
        ),
        (
            Operation("GET", "/api", "This OpenAPI document", openapi.OPENAPI_MEDIA),
            lambda a: describe(a.base),
        ),
        (
            Operation("GET", "/api.html", "This API's documentation", "text/html"),
            lambda a: openapi.html_page(describe(a.base)),
        ),
    ]
    if cat.queryables is not None:
        routes += [
            (Operation("GET", "/queryables", "Queryables", schema), queryables),
            (
                Operation("GET", one + "/queryables", "Queryables of a collection", schema),
                queryables,
            ),
        ]

    handlers = [(op, json_errors(_handler(op, answer, prefix))) for op, answer in routes]
    if prefix:  # the catalogue's root without its slash: not a route of its own in the doc
        app.router.add_get(prefix, handlers[0][1])
    for op, handler in handlers:
        if op.method == "GET":  # GET also answers HEAD (aiohttp's allow_head)
            app.router.add_get(prefix + op.path, handler)
        else:
            app.router.add_route(op.method, prefix + op.path, handler)


def _handler(op: Operation, answer: Answer, prefix: str) -> Handler:
    """The handler of one route: gather what was asked, answer it in the route's media type."""

    async def handle(request: web.Request) -> web.Response:
        body = _decode(await request.read()) if op.body else None
        query = dict(request.query.items())  # the last value wins when one is repeated
        asked = Asked(request_origin(request) + prefix, request.match_info, query, body)
        data = _not_too_deep(answer, asked)
        text = data if isinstance(data, str) else json.dumps(data)
        return web.Response(text=text, content_type=op.media)

    return handle


def _decode(raw: bytes) -> Any:
    """A request's JSON body (empty: ``{}``); anything else is a 400."""
    try:
        return _not_too_deep(json.loads, raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The search body is not valid JSON.") from None


def _not_too_deep(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``; JSON nested deeper than Python recursion allows is a 400, not a 500.

    The JSON decoder and the CQL2/GeoJSON checks recurse once per level of nesting, so a body
    (or a ``filter``/``intersects`` parameter) of a few thousand brackets would otherwise end
    in a RecursionError.
    """
    try:
        return function(*args)
    except RecursionError:
        raise bad_request("The search is nested too deeply.") from None
