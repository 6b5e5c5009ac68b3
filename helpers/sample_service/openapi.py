"""The OpenAPI 3.0 description of a STAC API (``service-desc``) and its HTML page (``service-doc``).

The landing page declares ``oas30``. The document is built from the route table
`stac_routes.add_routes` registers, with each catalogue's own query parameters, so it cannot
drift from what is served; its static parts are templates/stac/openapi.json.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .search import MAX_LIMIT

OPENAPI_MEDIA = "application/vnd.oai.openapi+json;version=3.0"
_TEMPLATE = Path(__file__).parent / "templates" / "stac" / "openapi.json"


@dataclass(frozen=True)
class Operation:
    """One route as the document describes it."""

    method: str
    path: str
    summary: str
    media: str = "application/json"
    query: Sequence[str] = ()
    body: bool = False


@functools.cache
def _template_text() -> str:
    return _TEMPLATE.read_text(encoding="utf-8").replace("{MAX_LIMIT}", str(MAX_LIMIT))


def _template() -> dict[str, Any]:
    """templates/stac/openapi.json, the parts no route changes: a fresh copy to fill in."""
    return json.loads(_template_text())


def document(title: str, base_url: str, operations: Iterable[Operation]) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``operations``, served from ``base_url``."""
    doc = _template()["document"]
    doc["info"]["title"] = title
    doc["servers"][0]["url"] = base_url.rstrip("/")
    for op in operations:
        doc["paths"].setdefault(op.path or "/", {})[op.method.lower()] = _operation(op)
    return doc


def _operation(op: Operation) -> dict[str, Any]:
    template = _template()
    answer: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}{_identifier(op.path)}",
        "responses": {
            "200": {"description": op.summary, "content": {op.media: {"schema": {}}}},
            **template["errors"],
        },
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    parameters += [template["query_parameters"][name] for name in op.query]
    if parameters:
        answer["parameters"] = parameters
    if op.body:
        answer["requestBody"] = template["request_body"]
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
