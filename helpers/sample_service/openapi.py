"""The OpenAPI 3.0 description of a STAC API (``service-desc``) and its HTML page (``service-doc``).

Why generated: the landing page declares the ``oas30`` conformance class, and STAC API core asks
for a ``service-desc`` link. A hand-written document would describe the routes a second time and
drift from them; here it is built from the same route table `stac_routes.add_routes` registers,
with the query parameters each catalogue really accepts, so what the document lists is exactly
what the service answers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .search import MAX_LIMIT

OPENAPI_MEDIA = "application/vnd.oai.openapi+json;version=3.0"

_PARAMETER_SCHEMAS: dict[str, tuple[str, str]] = {
    "collections": ("string", "Comma-separated collection ids."),
    "ids": ("string", "Comma-separated item ids."),
    "bbox": ("string", "west,south,east,north (4 or 6 numbers, degrees)."),
    "intersects": ("string", "A GeoJSON geometry (JSON text)."),
    "datetime": ("string", "An RFC 3339 date-time or interval (start/end, '..' open)."),
    "limit": ("integer", f"Items per page, 1 to {MAX_LIMIT} (larger values are cropped)."),
    "token": ("string", "The paging token of a next or previous link."),
    "query": ("string", "Query extension: a JSON object of property operators."),
    "sortby": ("string", "Comma-separated properties, '-' for descending."),
    "filter": ("string", "A CQL2 filter (basic CQL2)."),
    "filter-lang": ("string", "cql2-text (the default for GET) or cql2-json."),
}


@dataclass(frozen=True)
class Operation:
    """One route as the document describes it."""

    method: str
    path: str
    summary: str
    media: str = "application/json"
    query: Sequence[str] = ()
    body: bool = False


def document(title: str, base_url: str, operations: Iterable[Operation]) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``operations``, served from ``base_url``."""
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path or "/", {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": "Read-only STAC API of the EOPF book's sample service.",
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "description"],
                    "properties": {
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                    },
                }
            }
        },
    }


def _operation(op: Operation) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    answer: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}{_identifier(op.path)}",
        "responses": {
            "200": {"description": op.summary, "content": {op.media: {"schema": {}}}},
            "400": {"description": "A parameter the client can fix.", "content": error},
            "404": {"description": "No such collection or item.", "content": error},
        },
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    for name in op.query:
        kind, text = _PARAMETER_SCHEMAS.get(name, ("string", name))
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": kind},
                "description": text,
            }
        )
    if parameters:
        answer["parameters"] = parameters
    if op.body:
        answer["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return answer


def _identifier(path: str) -> str:
    return "".join(word.capitalize() for word in re.findall(r"[A-Za-z0-9]+", path)) or "Root"


def html_page(doc: dict[str, Any]) -> str:
    """A plain HTML page listing the document's operations (``service-doc``), no scripts."""
    esc = html.escape
    rows = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            names = ", ".join(
                f"{esc(p['name'])} ({esc(p['in'])})" for p in op.get("parameters", [])
            )
            rows.append(
                f"<tr><td>{esc(method.upper())}</td><td><code>{esc(path)}</code></td>"
                f"<td>{esc(op['summary'])}</td><td>{names or '-'}</td></tr>"
            )
    title = esc(doc["info"]["title"])
    server = esc(doc["servers"][0]["url"])
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        "</head><body>"
        f"<h1>{title}</h1><p>{esc(doc['info']['description'])} Server: <code>{server}</code>. "
        "Machine-readable: <a href='api'>OpenAPI 3.0 document</a>.</p>"
        "<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Parameters</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )
