"""Item search: the parameters of either spelling turned into ONE CQL2 expression.

``/search`` (GET and POST) and ``/collections/{id}/items`` take the same parameters as a query
string or a JSON body; a bad one is a one-line 400. Every filter (collections, ids, bbox,
intersects, datetime, the query extension, the CQL2 ``filter``) becomes a CQL2-JSON clause, and
their conjunction is matched against each item by the `cql2` package (the parser pystac-client
itself uses), which evaluates ``s_intersects`` and ``t_intersects`` on GeoJSON too: no geometry
or CQL2 evaluator is written here. `stac_api` runs the search, sorts and pages it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import cql2

from . import timefmt
from .errors import bad_request, one_line

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
BASIC_CQL2 = ("and", "or", "not", "=", "<>", "<", "<=", ">", ">=", "isNull")
"""The operators of basic CQL2, the one class of filter the landing page declares."""
Interval = tuple[dt.datetime | None, dt.datetime | None]
"""A searched time interval; None for an open end."""
Clause = dict[str, Any]
"""A CQL2-JSON expression."""


@dataclass
class SearchParams:
    """A parsed, validated search: filters as CQL2 clauses, sorting and paging always defined."""

    collections: tuple[str, ...] | None = None
    interval: Interval | None = None
    clauses: list[Clause] = field(default_factory=list)
    """ids, bbox or intersects, query and filter, each as CQL2-JSON."""
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    limit: int = DEFAULT_LIMIT
    token: str | None = None

    def where(self) -> cql2.Expr:
        """Every filter of the search as one CQL2 expression (``and`` of none: true)."""
        clauses = list(self.clauses)
        if self.collections is not None:
            clauses.append(_one_of("collection", self.collections))
        if self.interval is not None:
            span = [{"property": "start_datetime"}, {"property": "end_datetime"}]
            asked = [".." if end is None else timefmt.iso(end) for end in self.interval]
            clauses.append(
                {"op": "t_intersects", "args": [{"interval": span}, {"interval": asked}]}
            )
        return cql2.Expr({"op": "and", "args": clauses})


def matches(where: cql2.Expr, item_json: dict[str, Any]) -> bool:
    """Whether an item matches; a clause cql2 cannot decide for it is no match.

    cql2 raises (a bare Exception) when a property is missing or of another type than its
    operand: as SQL's NULL in the live pgstac service, such an item is not found.
    """
    try:
        return where.matches(item_json)
    except Exception:
        return False


def from_query(query: Mapping[str, str], allowed: Collection[str], where: str) -> SearchParams:
    """Parse query-string parameters: each is turned into its POST form, then parsed as one.

    A parameter outside ``allowed`` is a 400 naming it (``where``: the endpoint's path).
    """
    return _parse(query, allowed, where, text=True)


def from_body(body: dict[str, Any], allowed: Collection[str], where: str) -> SearchParams:
    """Parse a POST body, checking each field's JSON type (unknown fields are a 400)."""
    return _parse(body, allowed, where, text=False)


def _parse(
    given: Mapping[str, Any], allowed: Collection[str], where: str, *, text: bool
) -> SearchParams:
    """Parse parameters in the order given, so the first bad one is the one the 400 names."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise bad_request(
            f"Unsupported parameter '{unknown[0]}' for {where} (supported: {', '.join(allowed)})."
        )
    if given.get("bbox") is not None and given.get("intersects") is not None:
        raise bad_request("Give either bbox or intersects, not both.")
    params = SearchParams()
    for name, value in given.items():
        if value is None or name == "filter-lang":
            continue
        if name == "filter":
            lang = given.get("filter-lang", "cql2-text" if text else "cql2-json")
            params.clauses.append(_parse_filter(lang, value))
            continue
        if text and name in _TEXT_FORMS:
            convert, form = _TEXT_FORMS[name]
            try:
                value = convert(value)
            except ValueError:
                raise bad_request(f"{name} must be {form}.") from None
        attribute, parse = _PARSERS[name]
        parsed = parse(value)
        if attribute == "clauses":
            params.clauses.append(parsed)
        else:
            setattr(params, attribute, parsed)
    return params


# --- One parser per parameter -------------------------------------------------------------------


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{name} must be a list of strings.")
    return tuple(value)


def _one_of(name: str, values: Collection[str]) -> Clause:
    return {"op": "in", "args": [{"property": name}, list(values)]}


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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bbox_geometry(values: Any) -> dict[str, Any]:
    """The bbox as a GeoJSON MultiPolygon: two boxes when it crosses the antimeridian."""
    if not isinstance(values, list):
        raise bad_request("bbox must be a list of 4 or 6 numbers.")
    if len(values) not in (4, 6) or not all(_is_number(v) for v in values):
        raise bad_request("bbox must be 4 or 6 numbers: west, south, east, north.")
    if len(values) == 6:  # with heights: west, south, bottom, east, north, top
        values = [values[0], values[1], values[3], values[4]]
    west, south, east, north = (float(v) for v in values)
    if not (-90 <= south <= north <= 90) or not all(-180 <= x <= 180 for x in (west, east)):
        raise bad_request(
            "bbox must be west,south,east,north in degrees with -90 <= south <= north <= 90 "
            "and longitudes within -180..180."
        )
    spans = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]
    boxes = [[[[w, south], [e, south], [e, north], [w, north], [w, south]]] for w, e in spans]
    return {"type": "MultiPolygon", "coordinates": boxes}


def _intersects(geometry: Any) -> Clause:
    """The items whose footprint shares a point with ``geometry`` (checked: GeoJSON)."""
    if _is_geojson(geometry):
        return {"op": "s_intersects", "args": [{"property": "geometry"}, geometry]}
    raise bad_request(
        "intersects must be a GeoJSON geometry of finite [longitude, latitude] positions "
        "(polygon rings closed, of 4 positions or more)."
    )


def _is_geojson(geometry: Any) -> bool:
    """Whether ``geometry`` is a GeoJSON geometry, by the CQL2 JSON schema (through cql2).

    That schema wants two members or more in a GeometryCollection; RFC 7946 allows any
    number, so a collection's members are checked one by one instead.
    """
    if not isinstance(geometry, dict) or "type" not in geometry:
        return False
    if geometry["type"] == "GeometryCollection" and isinstance(geometry.get("geometries"), list):
        return all(_is_geojson(member) for member in geometry["geometries"])
    return _valid({"op": "s_intersects", "args": [{"property": "geometry"}, geometry]})


def _valid(clause: Clause) -> bool:
    """Whether cql2 reads ``clause`` and it passes the CQL2 JSON schema (GeoJSON included).

    cql2 raises a bare Exception for JSON it cannot read, hence the broad except.
    """
    try:
        cql2.Expr(clause).validate()
    except Exception:
        return False
    return True


_QUERY_OPERATORS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_QUERY_PATTERNS = {"startsWith": "{}%", "endsWith": "%{}", "contains": "%{}%"}


def _query_clause(value: Any) -> Clause:
    """The query extension (``{"eo:cloud_cover": {"lt": 20}, ...}``) as CQL2.

    The substring operators are ``like`` patterns with ``%`` and ``_`` escaped.
    """
    if not isinstance(value, dict):
        raise bad_request('query must be an object such as {"eo:cloud_cover": {"lt": 20}}.')
    clauses: list[Clause] = []
    for name, ops in value.items():
        if not isinstance(ops, dict) or not ops:
            raise bad_request(f"query['{name}'] must be an object of operators, e.g. lt, eq.")
        for op, operand in ops.items():
            args = [{"property": name}, _literal(operand)]
            if op in _QUERY_PATTERNS:
                pattern = re.sub(r"([\\%_])", r"\\\1", str(operand))
                clause = {"op": "like", "args": [args[0], _QUERY_PATTERNS[op].format(pattern)]}
            elif op in _QUERY_OPERATORS or (op == "in" and isinstance(operand, list)):
                clause = {"op": _QUERY_OPERATORS.get(op, "in"), "args": args}
            elif op == "in":
                raise bad_request(f"query['{name}']['in'] must be a list.")
            else:
                known = ", ".join([*_QUERY_OPERATORS, "in", *_QUERY_PATTERNS])
                raise bad_request(f"Unknown query operator '{op}' (use {known}).")
            if not _valid(clause):
                raise bad_request(f"query['{name}']['{op}'] must be a number, string or list.")
            clauses.append(clause)
    return {"op": "and", "args": clauses}


def _literal(value: Any) -> Any:
    """An operand as CQL2: an RFC 3339 string as a timestamp (so times compare as times,
    whatever their precision), lists member by member."""
    if isinstance(value, list):
        return [_literal(member) for member in value]
    if isinstance(value, str):
        try:
            return {"timestamp": timefmt.iso(timefmt.parse(value))}
        except ValueError:
            pass
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
        keys.append((entry["field"].removeprefix("properties."), direction == "desc"))
    return keys


def _parse_filter(lang: Any, value: Any) -> Clause:
    """A CQL2 filter in ``lang`` (cql2-text or cql2-json), read by cql2 and held to basic CQL2."""
    if lang not in ("cql2-text", "cql2-json"):
        raise bad_request(f"filter-lang '{lang}' is not supported; use cql2-text or cql2-json.")
    if lang == "cql2-text" and not isinstance(value, str):
        raise bad_request("A cql2-text filter must be a string.")
    if lang == "cql2-text" and value.count("(") > 500:
        # cql2's text parser recurses once per parenthesis, and a few thousand overflow the
        # native stack: the whole service would crash, not just this request.
        raise bad_request("The search is nested too deeply.")
    try:
        if lang == "cql2-text":
            expr = cql2.parse_text(value)
        else:
            expr = cql2.Expr(json.loads(value) if isinstance(value, str) else value)
        expr.validate()
    except RecursionError:
        raise
    except Exception as error:  # cql2 raises bare Exceptions for JSON it cannot read
        raise bad_request(f"filter is not valid {lang}: {one_line(error)[:200]}") from None
    return _basic(expr.to_json())


def _basic(node: Any) -> Any:
    """``node`` held to basic CQL2 (no ``like``, ``between``, spatial, temporal...), with its
    RFC 3339 strings as timestamps, as pgstac casts them to compare with ``datetime``."""
    if not isinstance(node, dict) or "op" not in node:
        return _literal(node)
    if node["op"] not in BASIC_CQL2:
        raise bad_request(
            f"CQL2 operator '{node['op']}' is not supported by the sample service "
            f"(supported: {', '.join(BASIC_CQL2)})."
        )
    return {**node, "args": [_basic(arg) for arg in node["args"]]}


_TEXT_FORMS: dict[str, tuple[Callable[[str], Any], str]] = {
    # parameter: its query-string form turned into its POST form, and what a bad one must be
    "collections": (_split_list, ""),
    "ids": (_split_list, ""),
    "bbox": (
        lambda text: [float(part) for part in text.split(",")],
        "4 or 6 comma-separated numbers",
    ),
    "intersects": (json.loads, "valid JSON"),
    "limit": (int, "a positive integer"),
    "query": (json.loads, "valid JSON"),
    "sortby": (_sortby_from_text, ""),
}
_PARSERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    # parameter: (the SearchParams attribute it sets, the parser of its POST form)
    "collections": ("collections", lambda value: _strings(value, "collections")),
    "ids": ("clauses", lambda value: _one_of("id", _strings(value, "ids"))),
    "bbox": ("clauses", lambda value: _intersects(_bbox_geometry(value))),
    "intersects": ("clauses", _intersects),
    "datetime": ("interval", _parse_interval),
    "limit": ("limit", _parse_limit),
    "token": ("token", _parse_token),
    "query": ("clauses", _query_clause),
    "sortby": ("sortby", _parse_sortby),
}
