"""Item search parameters: parsed from either spelling into one `SearchParams`, and matched.

``/search`` (GET and POST) and ``/collections/{id}/items`` take the same parameters as a query
string or a JSON body; a bad one is a one-line 400. `stac_api` runs the search and pages it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import operator
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cql2
import numpy as np
from matplotlib.path import Path

from . import timefmt
from .catalog import ProductRecord, footprint
from .errors import StacApiError, bad_request, one_line

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
Interval = tuple[dt.datetime | None, dt.datetime | None]
"""A searched time interval; None for an open end."""

# --- Search parameters -----------------------------------------------------------


@dataclass
class SearchParams:
    """A parsed, validated search: every filter optional, paging always defined."""

    collections: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    region: list[_Shape] | None = None
    interval: Interval | None = None
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    cql2: dict[str, Any] | None = None
    limit: int = DEFAULT_LIMIT
    token: str | None = None


def from_query(query: Mapping[str, str], allowed: Collection[str], where: str) -> SearchParams:
    """Parse query-string parameters: each is turned into its POST form, then parsed as one.

    A parameter outside ``allowed`` is a 400 naming it (``where``: the endpoint's path).
    """
    return _parse(query, allowed, where, _FROM_TEXT, "cql2-text")


def from_body(body: dict[str, Any], allowed: Collection[str], where: str) -> SearchParams:
    """Parse a POST body, checking each field's JSON type (unknown fields are a 400)."""
    return _parse(body, allowed, where, {}, "cql2-json")


def _parse(
    given: Mapping[str, Any],
    allowed: Collection[str],
    where: str,
    from_text: Mapping[str, Callable[[str], Any]],
    filter_lang: str,
) -> SearchParams:
    """Parse parameters in the order given, so the first bad one is the one the 400 names."""
    _refuse_unknown(given, allowed, where)
    if given.get("bbox") is not None and given.get("intersects") is not None:
        raise bad_request("Give either bbox or intersects, not both.")
    fields: dict[str, Any] = {}
    for name, value in given.items():
        if value is None or name == "filter-lang":
            continue
        if name in from_text:
            value = from_text[name](value)
        if name == "filter":
            fields["cql2"] = _parse_filter(given.get("filter-lang", filter_lang), value)
        else:
            field_name, parse = _PARSERS[name]
            fields[field_name] = parse(value)
    return SearchParams(**fields)


def _refuse_unknown(given: Iterable[str], allowed: Collection[str], where: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise bad_request(
            f"Unsupported parameter '{unknown[0]}' for {where} (supported: {', '.join(allowed)})."
        )


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _string_list(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{name} must be a list of strings.")
    return tuple(value)


def _from_text(convert: Callable[[str], Any], message: str) -> Callable[[str], Any]:
    """``convert`` applied to a query-string value; a ValueError is a 400 saying ``message``."""

    def parse(text: str) -> Any:
        try:
            return convert(text)
        except ValueError:
            raise bad_request(message) from None

    return parse


def _parse_limit(value: Any) -> int:
    """A positive page size; one above `MAX_LIMIT` is cropped to it.

    STAC API item search: "If the limit parameter value is greater than advertised limit
    maximum, the server must act as if the request were for the maximum" (the live
    stac-fastapi service does); below 1 is still a 400.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("limit must be a positive integer.")
    if value < 1:
        raise bad_request(f"limit must be a positive integer, got {value}.")
    return min(value, MAX_LIMIT)


def _parse_token(value: Any) -> str:
    if not isinstance(value, str):
        raise bad_request("token must be a string from a next or previous link.")
    return value


def parse_instant(text: str, name: str = "datetime") -> dt.datetime:
    """An RFC 3339 date-time (`timefmt.parse`); anything else is a 400 naming ``name``."""
    try:
        return timefmt.parse(text)
    except ValueError:
        day = timefmt.parse_date(text)
        hint = (
            f"a date alone is not a date-time; for the whole day ask {day}T00:00:00Z/{day}"
            "T23:59:59.999999Z"
            if day is not None
            else "use RFC 3339, e.g. 2025-05-22T00:00:00Z"
        )
        raise bad_request(f"Invalid {name} '{text}': {hint}.") from None


def _parse_interval(text: Any) -> Interval:
    """An instant, or a closed or half-open interval (``a/b``, ``../b``, ``a/..``, ``a/``).

    As stac-fastapi (the live service) reads it: each end an RFC 3339 date-time, ``..`` or
    empty for an open end, never both open. A date alone is refused there too (400,
    stac-fastapi issue #778); pystac-client turns ``datetime="2025-06-05"`` into the whole
    day before it asks, so its readers never send one.
    """
    if not isinstance(text, str):
        raise bad_request("datetime must be a string (an RFC 3339 time or interval).")
    if "/" not in text:
        moment = parse_instant(text)
        return moment, moment
    parts = text.split("/")
    if len(parts) != 2:
        raise bad_request(f"Invalid datetime interval '{text}': use start/end.")
    start, end = (None if p in ("", "..") else parse_instant(p) for p in parts)
    if start is None and end is None:
        raise bad_request("A datetime interval needs at least one end (not '../..').")
    if start is not None and end is not None and start > end:
        raise bad_request(f"Invalid datetime interval '{text}': the start is after the end.")
    return start, end


# --- Geometry (bbox and intersects) ------------------------------------------------
#
# Polygon intersection uses matplotlib.path (a direct dependency): shapely is pinned only as a
# dependency of the test tool stac-api-validator. The tests that matter here (edge crossing,
# containment, holes) are written out below; touching only at a boundary point may go either
# way, as the STAC spec leaves it to servers.


@dataclass(frozen=True)
class _Shape:
    """One part of a geometry: a polygon (with holes), a line, or points."""

    kind: str  # "polygon" | "line" | "points"
    rings: tuple[Any, ...]  # matplotlib Paths: exterior first, then holes; or one line path
    points: Any = None  # (n, 2) array for kind == "points"


def _bbox_shapes(values: Any) -> list[_Shape]:
    if not isinstance(values, list):
        raise bad_request("bbox must be a list of 4 or 6 numbers.")
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
    return _Shape("points", (), np.asarray(points, dtype=float))


def _line_shape(coords: Any) -> _Shape:
    line = [_position(p) for p in _array(coords)]
    if len(line) < 2:
        raise bad_request("A LineString needs at least two positions.")
    return _Shape("line", (Path(line),))


def _polygon_shape(coords: Any) -> _Shape:
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


@functools.cache  # footprints never change: shape them once per product
def _footprint_shapes(record: ProductRecord) -> list[_Shape]:
    return _geometry_shapes(footprint(record)[1])


def footprint_meets(record: ProductRecord, region: list[_Shape]) -> bool:
    """Whether a product's footprint shares any point with the searched region."""
    shapes = _footprint_shapes(record)
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
_CQL2_ARITY = {"not": 1, "isNull": 1, **dict.fromkeys(_CQL2_COMPARE, 2)}


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


def _sortby_from_text(text: str) -> list[dict[str, str]]:
    """GET form ``-properties.eo:cloud_cover,+datetime`` (ascending when unsigned) as POST's."""
    return [
        {"field": part.lstrip("+-"), "direction": "desc" if part.startswith("-") else "asc"}
        for part in _split_list(text)
    ]


def _parse_sortby(value: Any) -> list[tuple[str, bool]]:
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


def _parse_filter(lang: str, value: Any) -> dict[str, Any]:
    """A CQL2 filter in ``lang`` (cql2-text or cql2-json) as a checked CQL2-JSON object.

    Text goes through the `cql2` package (the parser pystac-client itself uses to write text
    filters) rather than a hand-written grammar; what it yields is then checked against the
    operators of basic CQL2, the class the landing page declares.
    """
    if lang == "cql2-text":
        if not isinstance(value, str):
            raise bad_request("A cql2-text filter must be a string.")
        try:
            value = cql2.parse_text(value).to_json()
        except (cql2.ParseError, ValueError) as error:
            raise bad_request(f"filter is not valid CQL2 text: {one_line(error)}") from None
    elif lang == "cql2-json":
        if isinstance(value, str):
            value = _from_text(json.loads, "filter must be valid JSON.")(value)
    else:
        raise bad_request(f"filter-lang '{lang}' is not supported; use cql2-text or cql2-json.")
    if not isinstance(value, dict):
        raise bad_request("filter must be a CQL2-JSON expression object.")
    _check_cql2(value)
    return value


def _check_cql2(node: Any) -> None:
    if not isinstance(node, dict) or "op" not in node or not isinstance(node.get("args"), list):
        raise bad_request('CQL2-JSON expressions look like {"op": "<", "args": [...]}.')
    op, args = node["op"], node["args"]
    if not isinstance(op, str) or (op not in ("and", "or") and op not in _CQL2_ARITY):
        raise bad_request(
            f"CQL2 operator '{op}' is not supported by the sample service "
            "(supported: and, or, not, =, <>, <, <=, >, >=, isNull)."
        )
    arity = _CQL2_ARITY.get(op)
    if arity is not None and len(args) != arity:
        raise bad_request(f"CQL2 '{op}' takes {('one argument', 'two arguments')[arity - 1]}.")
    if op in ("and", "or", "not"):
        for arg in args:
            _check_cql2(arg)


def property_value(item_json: dict[str, Any], name: str) -> Any:
    if name in ("id", "collection"):
        return item_json[name]
    return item_json["properties"].get(name)


def _comparable(value: Any, operand: Any) -> tuple[Any, Any] | None:
    """Bring a property value and an operand to one comparable type, or None if impossible."""
    if value is None:
        return None
    if isinstance(value, str) and isinstance(operand, str) and value.endswith("Z"):
        try:  # timestamps compare as times, whatever their precision
            return parse_instant(value), parse_instant(operand)
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


def matches_query(item_json: dict[str, Any], query: dict[str, dict[str, Any]]) -> bool:
    return all(
        _compare(op, property_value(item_json, name), operand)
        for name, ops in query.items()
        for op, operand in ops.items()
    )


def matches_cql2(item_json: dict[str, Any], node: dict[str, Any]) -> bool:
    op, args = node["op"], node["args"]
    if op == "and":
        return all(matches_cql2(item_json, a) for a in args)
    if op == "or":
        return any(matches_cql2(item_json, a) for a in args)
    if op == "not":
        return not matches_cql2(item_json, args[0])
    values = [_cql2_value(item_json, a) for a in args]
    if op == "isNull":
        return values[0] is None
    return _compare(_CQL2_COMPARE[op], values[0], values[1])


def _cql2_value(item_json: dict[str, Any], arg: Any) -> Any:
    if isinstance(arg, dict) and "property" in arg:
        return property_value(item_json, _property_name(str(arg["property"])))
    if isinstance(arg, dict) and "timestamp" in arg:
        return arg["timestamp"]
    return arg


# --- Parameter tables ------------------------------------------------------------------

_PARSERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    # parameter: (the SearchParams field it sets, the parser of its POST form)
    "collections": ("collections", lambda value: _string_list(value, "collections")),
    "ids": ("ids", lambda value: _string_list(value, "ids")),
    "bbox": ("region", _bbox_shapes),
    "intersects": ("region", _geometry_shapes),
    "datetime": ("interval", _parse_interval),
    "limit": ("limit", _parse_limit),
    "token": ("token", _parse_token),
    "query": ("query", _parse_query),
    "sortby": ("sortby", _parse_sortby),
}
_FROM_TEXT: dict[str, Callable[[str], Any]] = {
    # parameter: its query-string form turned into its POST form (the others are strings there)
    "collections": _split_list,
    "ids": _split_list,
    "bbox": _from_text(
        lambda text: [float(part) for part in text.split(",")],
        "bbox must be 4 or 6 comma-separated numbers.",
    ),
    "intersects": _from_text(json.loads, "intersects must be valid JSON."),
    "limit": _from_text(int, "limit must be a positive integer."),
    "query": _from_text(json.loads, "query must be valid JSON."),
    "sortby": _sortby_from_text,
}
