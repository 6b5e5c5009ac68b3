"""A STAC API over any catalogue: landing page, collections, items, item search and paging.

The book's code reads the live services and this replica through pystac-client alike. The
service serves two catalogues (`EOPF`, as https://stac.core.eopf.eodc.eu/ answers, and the
SAFE replica's `safe.SAFE_CATALOGUE`) with these same functions of (catalogue, base URL,
parameters): one paging scheme (tokens name the item a page follows or precedes), one error
convention (`errors.StacApiError`), and a 400 naming any parameter a catalogue does not list.
`stac_routes` wires them to HTTP routes.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from . import catalog, search, settings, stac_items, timefmt, zarr3_catalog, zarr3_items
from .catalog import ProductRecord
from .errors import StacApiError, bad_request, not_found
from .search import SearchParams

__all__ = ["GEOJSON", "SEARCH_PARAMETERS", "StacApiError", "bad_request", "not_found"]

GEOJSON = "application/geo+json"
CORE_PARAMETERS = ("collections", "ids", "bbox", "intersects", "datetime", "limit", "token")
FEATURES_PARAMETERS = ("bbox", "datetime", "limit", "token")
EXTENSION_PARAMETERS = ("query", "sortby", "filter", "filter-lang")
"""The extensions the EOPF landing page declares for item search and for ``/items`` (query,
sort, filter; not ``fields``: `stac_items.NOT_IMPLEMENTED`)."""
SEARCH_PARAMETERS = (*CORE_PARAMETERS, *EXTENSION_PARAMETERS)
ITEMS_PARAMETERS = (*FEATURES_PARAMETERS, *EXTENSION_PARAMETERS)


@dataclass(frozen=True)
class Entry:
    """One item of a catalogue: its id and collection there, and the product it describes."""

    id: str
    collection: str
    record: ProductRecord


@dataclass(frozen=True)
class Catalogue:
    """What a STAC API serves: its identity, collections, items and supported parameters."""

    landing: Mapping[str, Any]
    """``id``, ``title``, ``description``, ``stac_version`` and ``conformsTo`` of ``/``."""
    collections: Callable[[str], list[dict[str, Any]]]
    """Every collection (JSON) with links on the API root given, in the landing page's order."""
    entries: tuple[Entry, ...]
    build_item: Callable[[Entry, str], dict[str, Any]]
    """The item JSON of an entry, with links on the API root given."""
    search_parameters: tuple[str, ...] = CORE_PARAMETERS
    items_parameters: tuple[str, ...] = FEATURES_PARAMETERS
    queryables: Mapping[str, Any] | None = None
    """Properties ``filter`` can compare (``/queryables``), or None when there is no filter."""
    counts_matches: bool = True
    """Whether a search page states ``numberMatched`` and ``context`` (the live API of 2025
    did; by 2026 it never does, so pystac-client's ``matched()`` warns and gives None)."""


# --- Endpoints ---------------------------------------------------------------------------------


def landing_page(base_url: str, cat: Catalogue | None = None) -> dict[str, Any]:
    """``GET /``: the Catalog with conformance classes and links to everything else."""
    cat, root = cat or EOPF, _root(base_url)
    links = stac_items.api_links("landing", root=root)
    if cat.queryables is not None:
        links += stac_items.api_links("landing_queryables", root=root)
    for spec in cat.collections(root):
        links += stac_items.api_links(
            "child", root=root, collection=spec["id"], title=spec["title"]
        )
    meta = cat.landing
    return {
        "type": "Catalog",
        **{key: meta[key] for key in ("id", "title", "description", "stac_version")},
        "conformsTo": list(meta["conformsTo"]),
        "links": links,
        "stac_extensions": [],
    }


def conformance(cat: Catalogue | None = None) -> dict[str, Any]:
    """``GET /conformance``: the same classes the landing page lists."""
    return {"conformsTo": list((cat or EOPF).landing["conformsTo"])}


def queryables(
    base_url: str, collection_id: str | None = None, cat: Catalogue | None = None
) -> dict[str, Any]:
    """``GET /queryables`` (and per collection): the properties ``filter`` can compare."""
    cat = cat or EOPF
    if cat.queryables is None:
        raise not_found("This catalogue has no queryables (it offers no filter).")
    if collection_id is not None:
        collection(base_url, collection_id, cat)
    suffix = f"/collections/{collection_id}" if collection_id else ""
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{_root(base_url)}{suffix}/queryables",
        "type": "object",
        "title": "STAC Queryables.",
        "properties": dict(cat.queryables),
        "additionalProperties": True,
    }


def collections_page(base_url: str, cat: Catalogue | None = None) -> dict[str, Any]:
    """``GET /collections``: every collection of the catalogue."""
    root = _root(base_url)
    found = (cat or EOPF).collections(root)
    return {
        "collections": found,
        "links": stac_items.api_links("collections", root=root),
        "numberMatched": len(found),
        "numberReturned": len(found),
    }


def collection(base_url: str, collection_id: str, cat: Catalogue | None = None) -> dict[str, Any]:
    """``GET /collections/{id}``; 404 for an unknown id."""
    for spec in (cat or EOPF).collections(_root(base_url)):
        if spec["id"] == collection_id:
            return spec
    raise not_found(f"Collection {collection_id} does not exist.")


def item(
    base_url: str, collection_id: str, item_id: str, cat: Catalogue | None = None
) -> dict[str, Any]:
    """``GET /collections/{id}/items/{item_id}``; 404 for an unknown collection or item."""
    cat = cat or EOPF
    collection(base_url, collection_id, cat)
    for entry in cat.entries:
        if entry.id == item_id and entry.collection == collection_id:
            return cat.build_item(entry, _root(base_url))
    raise not_found(f"Item {item_id} in Collection {collection_id} does not exist.")


def collection_items(
    base_url: str, collection_id: str, query: Mapping[str, str], cat: Catalogue | None = None
) -> dict[str, Any]:
    """``GET /collections/{id}/items``: one page of the collection, filtered and paged."""
    cat = cat or EOPF
    collection(base_url, collection_id, cat)
    where = f"/collections/{collection_id}/items"
    params = search.from_query(query, cat.items_parameters, where)
    params.collections = (collection_id,)
    return _search(cat, base_url, params, where, query, "GET")


def search_get(
    base_url: str, query: Mapping[str, str], cat: Catalogue | None = None
) -> dict[str, Any]:
    """``GET /search`` with the parameters in the query string."""
    cat = cat or EOPF
    params = search.from_query(query, cat.search_parameters, "/search")
    return _search(cat, base_url, params, "/search", query, "GET")


def search_post(base_url: str, body: Any, cat: Catalogue | None = None) -> dict[str, Any]:
    """``POST /search`` with a JSON body (already decoded; anything but an object is a 400)."""
    cat = cat or EOPF
    if not isinstance(body, dict):
        raise bad_request("The search body must be a JSON object.")
    params = search.from_body(body, cat.search_parameters, "/search")
    return _search(cat, base_url, params, "/search", body, "POST")


# --- Running a search --------------------------------------------------------------------------


def _search(
    cat: Catalogue,
    base_url: str,
    params: SearchParams,
    path: str,
    asked: Mapping[str, Any],
    method: str,
) -> dict[str, Any]:
    """Filter, sort and page the catalogue; the FeatureCollection of one page."""
    root, href = _root(base_url), _root(base_url) + path
    matches = _matching_entries(cat, params)
    start, end = _page_bounds([entry.id for entry in matches], params)
    page = [cat.build_item(entry, root) for entry in matches[start:end]]
    links: list[dict[str, Any]] = []
    if page and end < len(matches):
        token = f"next:{page[-1]['collection']}:{page[-1]['id']}"
        links.append(_paging_link("next", token, href, asked, method))
    if page and start > 0:
        token = f"prev:{page[0]['collection']}:{page[0]['id']}"
        links.append(_paging_link("previous", token, href, asked, method))
    links += stac_items.api_links("search_page", root=root, href=href)
    answer: dict[str, Any] = {"type": "FeatureCollection", "links": links, "features": page}
    if cat.counts_matches:
        answer["numberMatched"] = len(matches)
    answer["numberReturned"] = len(page)
    if cat.counts_matches:
        answer["context"] = {"limit": params.limit, "matched": len(matches), "returned": len(page)}
    return answer


@functools.cache  # items never change; links and hrefs (root-dependent) are left out
def _document(build_item: Callable[[Entry, str], dict[str, Any]], entry: Entry) -> dict[str, Any]:
    """What a search compares of an entry's item: id, collection, geometry and properties."""
    item_json = build_item(entry, "")
    return {key: item_json[key] for key in ("id", "collection", "geometry", "properties")}


def _matching_entries(cat: Catalogue, params: SearchParams) -> list[Entry]:
    """Every entry whose item matches the search, newest first then by id descending (as
    pgstac), then in the order of ``sortby``."""
    where = params.where()
    found = [e for e in cat.entries if search.matches(where, _document(cat.build_item, e))]
    found.sort(key=lambda e: (timefmt.parse(e.record.datetime), e.id), reverse=True)
    for name, descending in reversed(params.sortby):
        # Stable sorts, last key first; items lacking the property go last either way.
        value = {e.id: _sort_value(_document(cat.build_item, e), name) for e in found}
        present = [e for e in found if value[e.id] is not None]
        try:
            present.sort(key=lambda e: value[e.id], reverse=descending)
        except TypeError:
            raise bad_request(f"Cannot sort by '{name}': its values are of mixed types.") from None
        found = present + [e for e in found if value[e.id] is None]
    return found


def _sort_value(document: dict[str, Any], name: str) -> Any:
    """A property to sort by (``id`` and ``collection`` too); timestamps as times."""
    value = document[name] if name in ("id", "collection") else document["properties"].get(name)
    if isinstance(value, str) and value.endswith("Z"):
        with contextlib.suppress(ValueError):
            return timefmt.parse(value)
    return value


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


def _paging_link(
    rel: str, token: str, href: str, asked: Mapping[str, Any], method: str
) -> dict[str, Any]:
    """A next/previous link: what was asked with the new token, in the query string (GET) or
    the body (POST, as the live API does)."""
    kept = {key: value for key, value in asked.items() if key != "token"} | {"token": token}
    if method == "GET":
        return stac_items.api_links(
            "paging", rel=rel, href=f"{href}?{urlencode(kept)}", method="GET"
        )[0]
    return {**stac_items.api_links("paging", rel=rel, href=href, method="POST")[0], "body": kept}


def _root(base_url: str) -> str:
    return base_url.rstrip("/")


# --- The EOPF catalogue --------------------------------------------------------------------------

COUNTS_MATCHES_UNTIL = "2026-01-01"
"""From when the catalogue stops stating ``numberMatched``: the 2025 responses recorded in
xcube-eopf's cassettes state it, the 2026 measurements [T] never see it; the change date
between is not published (templates/README.md)."""


@functools.cache
def eopf_catalogue(date: str) -> Catalogue:
    """The EOPF Sample Service's catalogue as it stood on ``date`` (an ISO date)."""
    records = catalog.products_on(date) + zarr3_catalog.records_on(date)
    return Catalogue(
        landing=stac_items.landing_metadata(),
        collections=functools.partial(stac_items.build_collections, date=date),
        entries=tuple(Entry(r.id, r.collection, r) for r in records),
        build_item=_build_eopf_item,
        search_parameters=SEARCH_PARAMETERS,
        items_parameters=ITEMS_PARAMETERS,
        queryables=stac_items.queryable_properties(),
        counts_matches=date < COUNTS_MATCHES_UNTIL,
    )


def _build_eopf_item(entry: Entry, root: str) -> dict[str, Any]:
    if entry.collection == zarr3_catalog.S2_L2A_ZARR3:
        return zarr3_items.build_item(entry.record, root)
    return stac_items.build_item(entry.record, root)


EOPF = eopf_catalogue(settings.TUTORIAL_DATE)
"""The catalogue on the tutorial's date, served at the root of the sample service."""
