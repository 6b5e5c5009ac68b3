"""The STAC API of the sample service: landing page, collections, items and item search.

Why this module exists: the book's code talks to the EOPF STAC API through
pystac-client, unchanged, whether it runs against the live service or this
replica. So the replica answers the same requests with the same shapes as the
live stac-fastapi service (https://stac.core.eopf.eodc.eu/): a landing page
with ``conformsTo`` and child links, collections, items, and ``/search`` by GET
and POST with ``collections``, ``ids``, ``bbox``, ``intersects``,
``datetime``, ``limit`` and token paging, plus the ``query``, ``sortby`` and
basic CQL2-JSON ``filter`` extensions the live landing page declares.

Everything here is a pure function of (base URL, parameters) returning JSON
data, or raising `StacApiError` with the HTTP status and the stac-fastapi style
error body; `app.py` only wires these to routes. Parameters a reader can get
wrong are answered 400 with a one-line description, never a 500.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from . import catalog

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
GEOJSON = "application/geo+json"

# Parameters of /search that the replica understands (anything else is ignored,
# as stac-fastapi ignores unknown parameters).
SEARCH_PARAMETERS = (
    "collections",
    "ids",
    "bbox",
    "intersects",
    "datetime",
    "limit",
    "token",
    "query",
    "sortby",
    "filter",
    "filter-lang",
)


class StacApiError(Exception):
    """An HTTP error answer of the API: status plus a stac-fastapi style JSON body."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description

    def body(self) -> dict[str, str]:
        """The JSON body, e.g. ``{"code": "NotFoundError", "description": "..."}``."""
        return {"code": self.code, "description": self.description}


def not_found(description: str) -> StacApiError:
    """A 404 as stac-fastapi answers it for unknown collections and items."""
    return StacApiError(404, "NotFoundError", description)


def bad_request(description: str) -> StacApiError:
    """A 400 for parameters the reader can fix."""
    return StacApiError(400, "BadRequest", description)


# --- Catalogue endpoints -------------------------------------------------------


def landing_page(base_url: str) -> dict[str, Any]:
    """``GET /``: the Catalog with conformance classes and links to everything else."""
    root = _root(base_url)
    meta = catalog.landing_metadata()
    links = [
        {"rel": "self", "type": "application/json", "href": f"{root}/"},
        {"rel": "root", "type": "application/json", "href": f"{root}/"},
        {"rel": "data", "type": "application/json", "href": f"{root}/collections"},
        {
            "rel": "conformance",
            "type": "application/json",
            "title": "STAC/OGC conformance classes implemented by this server",
            "href": f"{root}/conformance",
        },
        {
            "rel": "search",
            "type": GEOJSON,
            "title": "STAC search",
            "href": f"{root}/search",
            "method": "GET",
        },
        {
            "rel": "search",
            "type": GEOJSON,
            "title": "STAC search",
            "href": f"{root}/search",
            "method": "POST",
        },
        {
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "type": "application/schema+json",
            "title": "Queryables",
            "href": f"{root}/queryables",
            "method": "GET",
        },
    ]
    for collection_id in catalog.collection_ids():
        spec = catalog.build_collection(collection_id, base_url)
        assert spec is not None
        links.append(
            {
                "rel": "child",
                "type": "application/json",
                "title": spec["title"],
                "href": f"{root}/collections/{collection_id}",
            }
        )
    return {
        "type": "Catalog",
        "id": meta["id"],
        "title": meta["title"],
        "description": meta["description"],
        "stac_version": meta["stac_version"],
        "conformsTo": meta["conformsTo"],
        "links": links,
        "stac_extensions": [],
    }


def conformance() -> dict[str, Any]:
    """``GET /conformance``: the same classes the landing page lists."""
    return {"conformsTo": catalog.landing_metadata()["conformsTo"]}


def queryables(base_url: str, collection_id: str | None = None) -> dict[str, Any]:
    """``GET /queryables`` (and per collection): the properties ``filter`` can compare."""
    if collection_id is not None:
        _require_collection(collection_id)
    suffix = f"/collections/{collection_id}" if collection_id else ""
    properties = {
        "id": {"type": "string", "title": "Item ID"},
        "collection": {"type": "string", "title": "Collection ID"},
        "datetime": {"type": "string", "format": "date-time"},
        "start_datetime": {"type": "string", "format": "date-time"},
        "end_datetime": {"type": "string", "format": "date-time"},
        "created": {"type": "string", "format": "date-time"},
        "platform": {"type": "string"},
        "constellation": {"type": "string"},
        "product:type": {"type": "string"},
        "eo:cloud_cover": {"type": "number", "minimum": 0, "maximum": 100},
        "sat:relative_orbit": {"type": "integer", "minimum": 1},
        "sat:absolute_orbit": {"type": "integer", "minimum": 1},
        "sat:orbit_state": {"type": "string", "enum": ["ascending", "descending"]},
        "grid:code": {"type": "string"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{_root(base_url)}{suffix}/queryables",
        "type": "object",
        "title": "STAC Queryables.",
        "properties": properties,
        "additionalProperties": True,
    }


def collections_page(base_url: str) -> dict[str, Any]:
    """``GET /collections``: every collection, as the live API lists them."""
    root = _root(base_url)
    found = [catalog.build_collection(cid, base_url) for cid in catalog.collection_ids()]
    return {
        "collections": found,
        "links": [
            {"rel": "root", "type": "application/json", "href": f"{root}/"},
            {"rel": "parent", "type": "application/json", "href": f"{root}/"},
            {"rel": "self", "type": "application/json", "href": f"{root}/collections"},
        ],
        "numberMatched": len(found),
        "numberReturned": len(found),
    }


def collection(base_url: str, collection_id: str) -> dict[str, Any]:
    """``GET /collections/{id}``; 404 for an unknown id."""
    _require_collection(collection_id)
    found = catalog.build_collection(collection_id, base_url)
    assert found is not None
    return found


def item(base_url: str, collection_id: str, item_id: str) -> dict[str, Any]:
    """``GET /collections/{id}/items/{item_id}``; 404 for an unknown collection or item."""
    _require_collection(collection_id)
    record = catalog.get_product(item_id)
    if record is None or record.collection != collection_id:
        raise not_found(f"Item {item_id} in Collection {collection_id} does not exist.")
    return catalog.build_item(record, base_url)


def collection_items(base_url: str, collection_id: str, query: Mapping[str, str]) -> dict[str, Any]:
    """``GET /collections/{id}/items``: one page of the collection, filtered and paged."""
    _require_collection(collection_id)
    params = _params_from_query(query, allowed=("bbox", "datetime", "limit", "token"))
    params.collections = (collection_id,)
    href = f"{_root(base_url)}/collections/{collection_id}/items"
    return _search(base_url, params, self_href=href, next_link=_get_link(href, query))


def search_get(base_url: str, query: Mapping[str, str]) -> dict[str, Any]:
    """``GET /search`` with the parameters in the query string."""
    params = _params_from_query(query, allowed=SEARCH_PARAMETERS)
    href = f"{_root(base_url)}/search"
    return _search(base_url, params, self_href=href, next_link=_get_link(href, query))


def search_post(base_url: str, body: Any) -> dict[str, Any]:
    """``POST /search`` with a JSON body (already decoded; anything but an object is a 400)."""
    if not isinstance(body, dict):
        raise bad_request("The search body must be a JSON object.")
    params = _params_from_body(body)
    href = f"{_root(base_url)}/search"
    return _search(base_url, params, self_href=href, next_link=_post_link(href, body))


# --- Search parameters -----------------------------------------------------------


@dataclass
class SearchParams:
    """A parsed, validated search: every filter optional, paging always defined."""

    collections: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    region: list[_Shape] | None = None
    interval: tuple[dt.datetime | None, dt.datetime | None] | None = None
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    cql2: dict[str, Any] | None = None
    limit: int = DEFAULT_LIMIT
    token: str | None = None


def _params_from_query(query: Mapping[str, str], allowed: Iterable[str]) -> SearchParams:
    """Parse query-string parameters (comma-separated lists, JSON for geometries/query)."""
    allowed = set(allowed)
    params = SearchParams()
    if "bbox" in query and "intersects" in query:
        raise bad_request("Give either bbox or intersects, not both.")
    for name in allowed & set(query):
        text = query[name]
        if name == "collections":
            params.collections = _split_list(text)
        elif name == "ids":
            params.ids = _split_list(text)
        elif name == "bbox":
            params.region = _bbox_shapes(_parse_numbers(text))
        elif name == "intersects":
            params.region = _geometry_shapes(_parse_json(text, "intersects"))
        elif name == "datetime":
            params.interval = _parse_interval(text)
        elif name == "limit":
            params.limit = _parse_limit(text)
        elif name == "token":
            params.token = text
        elif name == "query":
            params.query = _parse_query(_parse_json(text, "query"))
        elif name == "sortby":
            params.sortby = _parse_sortby_text(text)
        elif name == "filter":
            params.cql2 = _parse_filter(query.get("filter-lang"), text)
    return params


def _params_from_body(body: dict[str, Any]) -> SearchParams:
    """Parse a POST body, checking each field's JSON type."""
    params = SearchParams()
    if body.get("bbox") is not None and body.get("intersects") is not None:
        raise bad_request("Give either bbox or intersects, not both.")
    for name, value in body.items():
        if value is None:
            continue
        if name == "collections":
            params.collections = _string_list(value, name)
        elif name == "ids":
            params.ids = _string_list(value, name)
        elif name == "bbox":
            if not isinstance(value, list):
                raise bad_request("bbox must be a list of 4 or 6 numbers.")
            params.region = _bbox_shapes(value)
        elif name == "intersects":
            params.region = _geometry_shapes(value)
        elif name == "datetime":
            if not isinstance(value, str):
                raise bad_request("datetime must be a string (an RFC 3339 time or interval).")
            params.interval = _parse_interval(value)
        elif name == "limit":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}.")
            params.limit = _parse_limit(str(value))
        elif name == "token":
            if not isinstance(value, str):
                raise bad_request("token must be a string from a next or previous link.")
            params.token = value
        elif name == "query":
            params.query = _parse_query(value)
        elif name == "sortby":
            params.sortby = _parse_sortby_body(value)
        elif name == "filter":
            params.cql2 = _parse_filter(body.get("filter-lang", "cql2-json"), value)
    return params


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _string_list(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{name} must be a list of strings.")
    return tuple(value)


def _parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise bad_request(f"{name} must be valid JSON.") from None


def _parse_numbers(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise bad_request("bbox must be 4 or 6 comma-separated numbers.") from None


def _parse_limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit}.")
    return limit


def _parse_instant(text: str) -> dt.datetime:
    """An RFC 3339 date-time (``Z`` or offset; a missing offset is read as UTC)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise bad_request(
            f"Invalid datetime '{text}': use RFC 3339, e.g. 2025-05-22T00:00:00Z."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _parse_interval(text: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """An instant, or a closed or half-open interval (``a/b``, ``../b``, ``a/..``, ``a/``)."""
    if "/" not in text:
        moment = _parse_instant(text)
        return moment, moment
    parts = text.split("/")
    if len(parts) != 2:
        raise bad_request(f"Invalid datetime interval '{text}': use start/end.")
    start, end = (None if p.strip() in ("", "..") else _parse_instant(p) for p in parts)
    if start is None and end is None:
        raise bad_request("A datetime interval needs at least one end (not '../..').")
    if start is not None and end is not None and start > end:
        raise bad_request(f"Invalid datetime interval '{text}': the start is after the end.")
    return start, end


# --- Geometry (bbox and intersects) ------------------------------------------------
#
# Polygon intersection uses matplotlib.path (installed, well kept): shapely is
# not in the project's pinned environment. The tests that matter here
# (edge crossing, containment, holes) are written out below; touching only at
# a boundary point may go either way, as the STAC spec leaves it to servers.


@dataclass(frozen=True)
class _Shape:
    """One part of a geometry: a polygon (with holes), a line, or points."""

    kind: str  # "polygon" | "line" | "points"
    rings: tuple[Any, ...]  # matplotlib Paths: exterior first, then holes; or one line path
    points: Any = None  # (n, 2) array for kind == "points"


def _bbox_shapes(values: list[Any]) -> list[_Shape]:
    if len(values) not in (4, 6) or not all(_is_number(v) for v in values):
        raise bad_request("bbox must be 4 or 6 numbers: west, south, east, north.")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    west, south, east, north = (float(v) for v in values)
    if not (-90 <= south <= north <= 90) or not all(-180 <= x <= 180 for x in (west, east)):
        raise bad_request(
            "bbox must be west,south,east,north in degrees with -90 <= south <= north <= 90 "
            "and longitudes within -180..180."
        )
    spans = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]
    return [
        _polygon_shape([[[w, south], [e, south], [e, north], [w, north], [w, south]]])
        for w, e in spans
    ]


def _geometry_shapes(geometry: Any) -> list[_Shape]:
    """Validate a GeoJSON geometry and split it into shapes."""
    if not isinstance(geometry, dict) or not isinstance(geometry.get("type"), str):
        raise bad_request("intersects must be a GeoJSON geometry object with a type.")
    kind = geometry["type"]
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list):
            raise bad_request("A GeometryCollection needs a list of geometries.")
        return [shape for member in members for shape in _geometry_shapes(member)]
    coords = geometry.get("coordinates")
    if kind == "Point":
        return [_points_shape([_position(coords)])]
    if kind == "MultiPoint":
        return [_points_shape([_position(p) for p in _array(coords)])]
    if kind == "LineString":
        return [_line_shape(coords)]
    if kind == "MultiLineString":
        return [_line_shape(line) for line in _array(coords)]
    if kind == "Polygon":
        return [_polygon_shape(coords)]
    if kind == "MultiPolygon":
        return [_polygon_shape(polygon) for polygon in _array(coords)]
    raise bad_request(f"Unsupported geometry type '{kind}'.")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _array(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise bad_request("GeoJSON coordinates must be non-empty arrays.")
    return value


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise bad_request("A GeoJSON position is [longitude, latitude] (optionally height).")
    if not all(_is_number(v) for v in value):
        raise bad_request("GeoJSON positions must hold finite numbers.")
    return float(value[0]), float(value[1])


def _points_shape(points: list[tuple[float, float]]) -> _Shape:
    import numpy as np

    return _Shape("points", (), np.asarray(points, dtype=float))


def _line_shape(coords: Any) -> _Shape:
    from matplotlib.path import Path

    line = [_position(p) for p in _array(coords)]
    if len(line) < 2:
        raise bad_request("A LineString needs at least two positions.")
    return _Shape("line", (Path(line),))


def _polygon_shape(coords: Any) -> _Shape:
    from matplotlib.path import Path

    rings = []
    for ring_coords in _array(coords):
        ring = [_position(p) for p in _array(ring_coords)]
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise bad_request(
                "Polygon rings need at least 4 positions, the last equal to the first."
            )
        rings.append(Path(ring, closed=True))
    return _Shape("polygon", tuple(rings))


def _footprint_meets(footprint: _Shape, query: _Shape) -> bool:
    """Whether an item's footprint polygon shares any point with a query shape."""
    outline = footprint.rings[0]
    if query.kind == "points":
        return bool(outline.contains_points(query.points).any())
    if query.kind == "line":
        line = query.rings[0]
        return bool(outline.intersects_path(line, filled=False)) or bool(
            outline.contains_points(line.vertices).any()
        )
    exterior, *holes = query.rings
    if outline.intersects_path(exterior, filled=False):
        return True  # the outlines cross: some of the footprint lies inside the query
    corner = outline.vertices[0]
    if exterior.contains_point(corner):
        for hole in holes:
            if hole.contains_point(corner):
                # The footprint starts inside a hole: it meets the polygon only if it leaves it.
                return bool(outline.intersects_path(hole, filled=False))
        return True
    # Outlines do not cross and the footprint starts outside: met only if it encloses the query.
    return bool(outline.contains_point(exterior.vertices[0]))


_ITEM_SHAPES: dict[str, list[_Shape]] = {}


def _item_meets(record: catalog.ProductRecord, region: list[_Shape]) -> bool:
    shapes = _ITEM_SHAPES.get(record.id)
    if shapes is None:  # footprints never change: shape them once per product
        shapes = _ITEM_SHAPES[record.id] = _geometry_shapes(catalog.footprint(record)[1])
    return any(_footprint_meets(item_part, q) for item_part in shapes for q in region)


# --- query, sortby and CQL2 filter --------------------------------------------------

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "neq": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "startsWith": lambda a, b: str(a).startswith(str(b)),
    "endsWith": lambda a, b: str(a).endswith(str(b)),
    "contains": lambda a, b: str(b) in str(a),
    "in": lambda a, b: a in b,
}
_CQL2_COMPARE = {"=": "eq", "<>": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def _parse_query(value: Any) -> dict[str, dict[str, Any]]:
    """The query extension: ``{"eo:cloud_cover": {"lt": 20}, ...}``."""
    if not isinstance(value, dict):
        raise bad_request('query must be an object such as {"eo:cloud_cover": {"lt": 20}}.')
    for name, ops in value.items():
        if not isinstance(ops, dict) or not ops:
            raise bad_request(f"query['{name}'] must be an object of operators, e.g. lt, eq.")
        for op, operand in ops.items():
            if op not in _COMPARE:
                raise bad_request(f"Unknown query operator '{op}' (use {', '.join(_COMPARE)}).")
            if op == "in" and not isinstance(operand, list):
                raise bad_request(f"query['{name}']['in'] must be a list.")
    return value


def _parse_sortby_text(text: str) -> list[tuple[str, bool]]:
    """GET form: ``-properties.eo:cloud_cover,+datetime`` (ascending when unsigned)."""
    keys = []
    for part in _split_list(text):
        descending = part.startswith("-")
        keys.append((_property_name(part.lstrip("+-")), descending))
    return keys


def _parse_sortby_body(value: Any) -> list[tuple[str, bool]]:
    """POST form: ``[{"field": "properties.eo:cloud_cover", "direction": "desc"}]``."""
    if not isinstance(value, list):
        raise bad_request(
            'sortby must be a list like [{"field": "datetime", "direction": "desc"}].'
        )
    keys = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            raise bad_request("Each sortby entry needs a field name.")
        direction = entry.get("direction", "asc")
        if direction not in ("asc", "desc"):
            raise bad_request("sortby direction must be 'asc' or 'desc'.")
        keys.append((_property_name(entry["field"]), direction == "desc"))
    return keys


def _property_name(name: str) -> str:
    return name.removeprefix("properties.")


def _parse_filter(lang: str | None, value: Any) -> dict[str, Any]:
    """Basic CQL2-JSON (the language pystac-client sends for dict filters)."""
    if lang not in (None, "cql2-json"):
        raise bad_request(
            f"filter-lang '{lang}' is not supported by the sample service; send cql2-json."
        )
    if isinstance(value, str):
        value = _parse_json(value, "filter")
    if not isinstance(value, dict):
        raise bad_request("filter must be a CQL2-JSON expression object.")
    _check_cql2(value)
    return value


def _check_cql2(node: Any) -> None:
    if not isinstance(node, dict) or "op" not in node or not isinstance(node.get("args"), list):
        raise bad_request('CQL2-JSON expressions look like {"op": "<", "args": [...]}.')
    op, args = node["op"], node["args"]
    if op in ("and", "or"):
        for arg in args:
            _check_cql2(arg)
    elif op == "not":
        if len(args) != 1:
            raise bad_request("CQL2 'not' takes one argument.")
        _check_cql2(args[0])
    elif op in _CQL2_COMPARE:
        if len(args) != 2:
            raise bad_request(f"CQL2 '{op}' takes two arguments.")
    elif op == "isNull":
        if len(args) != 1:
            raise bad_request("CQL2 'isNull' takes one argument.")
    else:
        raise bad_request(
            f"CQL2 operator '{op}' is not supported by the sample service "
            "(supported: and, or, not, =, <>, <, <=, >, >=, isNull)."
        )


def _property_value(item_json: dict[str, Any], name: str) -> Any:
    if name in ("id", "collection"):
        return item_json[name]
    return item_json["properties"].get(name)


def _comparable(value: Any, operand: Any) -> tuple[Any, Any] | None:
    """Bring a property value and an operand to one comparable type, or None if impossible."""
    if value is None:
        return None
    if isinstance(value, str) and isinstance(operand, str) and value.endswith("Z"):
        try:  # timestamps compare as times, whatever their precision
            return _parse_instant(value), _parse_instant(operand)
        except StacApiError:
            return value, operand
    if _is_number(value) and _is_number(operand):
        return value, operand
    if isinstance(value, str) and isinstance(operand, str):
        return value, operand
    return None


def _compare(op: str, value: Any, operand: Any) -> bool:
    if op == "in":
        return value in operand
    if op in ("startsWith", "endsWith", "contains"):
        return value is not None and _COMPARE[op](value, operand)
    pair = _comparable(value, operand)
    if pair is None:
        return op == "neq" and value != operand
    return _COMPARE[op](*pair)


def _matches_query(item_json: dict[str, Any], query: dict[str, dict[str, Any]]) -> bool:
    return all(
        _compare(op, _property_value(item_json, name), operand)
        for name, ops in query.items()
        for op, operand in ops.items()
    )


def _matches_cql2(item_json: dict[str, Any], node: dict[str, Any]) -> bool:
    op, args = node["op"], node["args"]
    if op == "and":
        return all(_matches_cql2(item_json, a) for a in args)
    if op == "or":
        return any(_matches_cql2(item_json, a) for a in args)
    if op == "not":
        return not _matches_cql2(item_json, args[0])
    values = [_cql2_value(item_json, a) for a in args]
    if op == "isNull":
        return values[0] is None
    return _compare(_CQL2_COMPARE[op], values[0], values[1])


def _cql2_value(item_json: dict[str, Any], arg: Any) -> Any:
    if isinstance(arg, dict) and "property" in arg:
        return _property_value(item_json, _property_name(str(arg["property"])))
    if isinstance(arg, dict) and "timestamp" in arg:
        return arg["timestamp"]
    return arg


# --- Running a search ---------------------------------------------------------------


def _search(
    base_url: str,
    params: SearchParams,
    *,
    self_href: str,
    next_link: Callable[[str, str], dict[str, Any]],
) -> dict[str, Any]:
    """Filter, sort and page the catalogue; the FeatureCollection of one page."""
    matches = _matching_items(base_url, params)
    start, end = _page_bounds([record.id for record, _ in matches], params)
    page = [
        item_json or catalog.build_item(record, base_url)
        for record, item_json in matches[start:end]
    ]
    root = _root(base_url)
    links: list[dict[str, Any]] = []
    if page and end < len(matches):
        last = page[-1]
        links.append(next_link("next", f"next:{last['collection']}:{last['id']}"))
    if start > 0 and page:
        links.append(next_link("previous", f"prev:{page[0]['collection']}:{page[0]['id']}"))
    links += [
        {"rel": "root", "type": "application/json", "href": f"{root}/"},
        {"rel": "self", "type": "application/json", "href": self_href},
    ]
    return {
        "type": "FeatureCollection",
        "links": links,
        "features": page,
        "numberMatched": len(matches),
        "numberReturned": len(page),
        "context": {"limit": params.limit, "matched": len(matches), "returned": len(page)},
    }


_Match = tuple[catalog.ProductRecord, dict[str, Any] | None]


def _matching_items(base_url: str, params: SearchParams) -> list[_Match]:
    """(record, item JSON if built) of every match, newest first then by id descending.

    Records are filtered on their own fields first; item JSON is built only
    when a property filter or sort needs it (otherwise just for the page).
    """
    needs_json = bool(params.query or params.cql2 is not None or params.sortby)
    found: list[_Match] = []
    for record in catalog.PRODUCTS:
        if params.collections is not None and record.collection not in params.collections:
            continue
        if params.ids is not None and record.id not in params.ids:
            continue
        if params.interval is not None and not _overlaps(record, params.interval):
            continue
        if params.region is not None and not _item_meets(record, params.region):
            continue
        item_json = catalog.build_item(record, base_url) if needs_json else None
        if params.query and not _matches_query(item_json, params.query):
            continue
        if params.cql2 is not None and not _matches_cql2(item_json, params.cql2):
            continue
        found.append((record, item_json))
    found.sort(key=lambda m: (_parse_instant(m[0].datetime), m[0].id), reverse=True)
    for name, descending in reversed(params.sortby):
        # Stable sorts, last key first; items lacking the property go last either way.
        present = [m for m in found if _property_value(m[1], name) is not None]
        missing = [m for m in found if _property_value(m[1], name) is None]
        try:
            present.sort(
                key=lambda m, n=name: _sort_key(_property_value(m[1], n)), reverse=descending
            )
        except TypeError:
            raise bad_request(f"Cannot sort by '{name}': its values are of mixed types.") from None
        found = present + missing
    return found


def _sort_key(value: Any) -> Any:
    if isinstance(value, str) and value.endswith("Z"):
        try:
            return _parse_instant(value)
        except StacApiError:
            return value
    return value


def _overlaps(
    record: catalog.ProductRecord, interval: tuple[dt.datetime | None, dt.datetime | None]
) -> bool:
    start, end = interval
    item_start = _parse_instant(record.start_datetime)
    item_end = _parse_instant(record.end_datetime)
    return (end is None or item_start <= end) and (start is None or item_end >= start)


def _page_bounds(ids: list[str], params: SearchParams) -> tuple[int, int]:
    """[start, end) of the requested page; tokens name the item the page follows or precedes."""
    if params.token is None:
        return 0, min(params.limit, len(ids))
    direction, _, rest = params.token.partition(":")
    item_id = rest.rpartition(":")[2]
    if direction not in ("next", "prev") or item_id not in ids:
        raise bad_request(
            "Invalid paging token: use the token of a next or previous link of the same search."
        )
    index = ids.index(item_id)
    if direction == "next":
        return index + 1, min(index + 1 + params.limit, len(ids))
    return max(0, index - params.limit), index


def _get_link(href: str, query: Mapping[str, str]) -> Callable[[str, str], dict[str, Any]]:
    """A next/previous link for GET: the same query string with the new token."""

    def link(rel: str, token: str) -> dict[str, Any]:
        pairs = [(k, v) for k, v in query.items() if k != "token"] + [("token", token)]
        return {"rel": rel, "type": GEOJSON, "method": "GET", "href": f"{href}?{urlencode(pairs)}"}

    return link


def _post_link(href: str, body: dict[str, Any]) -> Callable[[str, str], dict[str, Any]]:
    """A next/previous link for POST: the same body with the new token, as the live API does."""

    def link(rel: str, token: str) -> dict[str, Any]:
        new_body = {k: v for k, v in body.items() if k != "token"}
        new_body["token"] = token
        return {"rel": rel, "type": GEOJSON, "method": "POST", "href": href, "body": new_body}

    return link


def _require_collection(collection_id: str) -> None:
    if collection_id not in catalog.collection_ids():
        raise not_found(f"Collection {collection_id} does not exist.")


def _root(base_url: str) -> str:
    return base_url.rstrip("/")
