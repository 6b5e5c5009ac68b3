"""HTTP routes of a STAC API: one route table per catalogue, and the OpenAPI document made from it.

`stac_api` is plain functions of (catalogue, base URL, parameters); this module maps them to
URLs below a prefix (``""``: the EOPF catalogue, ``/safe-stac``: the SAFE replica's). Every
handler answers a `StacApiError` itself (`json_errors`), so a test's bare application does too.
The landing page declares ``oas30``: ``/api`` (service-desc) describes the very table served,
so it cannot drift from it, and ``/api.html`` (service-doc) lists it; the document's static parts
are templates/stac/openapi.json.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from . import stac_api
from .errors import StacApiError, bad_request
from .origin import request_origin
from .search import MAX_LIMIT
from .stac_api import GEOJSON, Catalogue

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPENAPI_MEDIA = "application/vnd.oai.openapi+json;version=3.0"
_OPENAPI = Path(__file__).parent / "templates" / "stac" / "openapi.json"


@dataclass(frozen=True)
class Asked:
    """What a route's answer depends on: API root, path parameters, query string, JSON body."""

    base: str
    collection_id: str | None
    item_id: str | None
    query: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Route:
    """One operation: what the OpenAPI document says of it, and how it is answered."""

    method: str
    path: str
    summary: str
    answer: Callable[[Asked], Any]
    """JSON data, or the text of a page."""
    media: str = "application/json"
    query: Sequence[str] = ()
    body: bool = False


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
    title = cat.landing["title"]
    routes = [
        Route("GET", "/", "Landing page", lambda a: api.landing_page(a.base, cat)),
        Route("GET", "/conformance", "Conformance classes", lambda a: api.conformance(cat)),
        Route(
            "GET", "/collections", "Every collection", lambda a: api.collections_page(a.base, cat)
        ),
        Route("GET", one, "One collection", lambda a: api.collection(a.base, a.collection_id, cat)),
        Route(
            "GET",
            one + "/items",
            "Items of a collection",
            lambda a: api.collection_items(a.base, a.collection_id, a.query, cat),
            GEOJSON,
            cat.items_parameters,
        ),
        Route(
            "GET",
            one + "/items/{item_id}",
            "One item",
            lambda a: api.item(a.base, a.collection_id, a.item_id, cat),
            GEOJSON,
        ),
        Route(
            "GET",
            "/search",
            "Item search",
            lambda a: api.search_get(a.base, a.query, cat),
            GEOJSON,
            cat.search_parameters,
        ),
        Route(
            "POST",
            "/search",
            "Item search",
            lambda a: api.search_post(a.base, a.body, cat),
            GEOJSON,
            body=True,
        ),
        Route(
            "GET",
            "/api",
            "This OpenAPI document",
            lambda a: openapi_document(title, a.base, routes),
            OPENAPI_MEDIA,
        ),
        Route(
            "GET",
            "/api.html",
            "This API's documentation",
            lambda a: html_page(openapi_document(title, a.base, routes)),
            "text/html",
        ),
    ]
    if cat.queryables is not None:
        queryables = lambda a: api.queryables(a.base, a.collection_id, cat)  # noqa: E731
        routes += [
            Route("GET", "/queryables", "Queryables", queryables, schema),
            Route("GET", one + "/queryables", "Queryables of a collection", queryables, schema),
        ]
    handlers = [(route, json_errors(_handler(route, prefix))) for route in routes]
    if prefix:  # the catalogue's root without its slash: not a route of its own in the doc
        app.router.add_get(prefix, handlers[0][1])
    for route, handler in handlers:
        if route.method == "GET":  # GET also answers HEAD (aiohttp's allow_head)
            app.router.add_get(prefix + route.path, handler)
        else:
            app.router.add_route(route.method, prefix + route.path, handler)


def _handler(route: Route, prefix: str) -> Handler:
    """The handler of one route: gather what was asked, answer it in the route's media type."""

    async def handle(request: web.Request) -> web.Response:
        body = _decode(await request.read()) if route.body else None
        query = dict(request.query.items())  # the last value wins when one is repeated
        ids = [request.match_info.get(name) for name in ("collection_id", "item_id")]
        asked = Asked(request_origin(request) + prefix, *ids, query, body)
        data = _not_too_deep(route.answer, asked)
        text = data if isinstance(data, str) else json.dumps(data)
        return web.Response(text=text, content_type=route.media)

    return handle


def _decode(raw: bytes) -> Any:
    """A request's JSON body (empty: ``{}``); anything else is a 400."""
    try:
        return _not_too_deep(json.loads, raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The search body is not valid JSON.") from None


def _not_too_deep(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``; JSON nested deeper than Python recursion allows is a 400, not a 500.

    The JSON decoder and the CQL2 checks recurse once per level of nesting, so a body (or a
    ``filter``/``intersects`` parameter) of a few thousand brackets would otherwise end in a
    RecursionError.
    """
    try:
        return function(*args)
    except RecursionError:
        raise bad_request("The search is nested too deeply.") from None


# --- OpenAPI 3.0 ---------------------------------------------------------------------------------


@functools.cache
def _openapi_text() -> str:
    return _OPENAPI.read_text(encoding="utf-8").replace("{MAX_LIMIT}", str(MAX_LIMIT))


def openapi_document(title: str, base_url: str, routes: Sequence[Route]) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``routes``, served from ``base_url``."""
    template = json.loads(_openapi_text())  # a fresh copy to fill in
    doc = template["document"]
    doc["info"]["title"] = title
    doc["servers"][0]["url"] = base_url.rstrip("/")
    for route in routes:
        words = re.findall(r"[A-Za-z0-9]+", route.path)
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", route.path)
        ] + [template["query_parameters"][name] for name in route.query]
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": route.method.lower() + ("".join(map(str.capitalize, words)) or "Root"),
            "responses": {
                "200": {"description": route.summary, "content": {route.media: {"schema": {}}}},
                **template["errors"],
            },
        }
        if parameters:
            operation["parameters"] = parameters
        if route.body:
            operation["requestBody"] = template["request_body"]
        doc["paths"].setdefault(route.path, {})[route.method.lower()] = operation
    return doc


def html_page(doc: dict[str, Any]) -> str:
    """A plain HTML page listing the document's operations (``service-doc``), no scripts."""
    esc = html.escape
    rows = [
        f"<tr><td>{esc(method.upper())}</td><td><code>{esc(path)}</code></td>"
        f"<td>{esc(op['summary'])}</td><td>"
        + (", ".join(f"{esc(p['name'])} ({esc(p['in'])})" for p in op.get("parameters", [])) or "-")
        + "</td></tr>"
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    ]
    title, server = esc(doc["info"]["title"]), esc(doc["servers"][0]["url"])
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        "</head><body>"
        f"<h1>{title}</h1><p>{esc(doc['info']['description'])} Server: <code>{server}</code>. "
        "Machine-readable: <a href='api'>OpenAPI 3.0 document</a>.</p>"
        "<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Parameters</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )
