"""The EOPF catalogue as the STAC API states it: collections and items built from the records.

An item is built from its record alone, so its hrefs, footprint and times match the Zarr store
the record describes. What every item of a collection states alike is data in templates/stac/
(sources in its README.md); what varies per product is filled in here.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

from . import cpm_versions, timefmt
from .catalog import (
    INTERNATIONAL_DESIGNATORS,
    S2_L2A,
    S2_TILE_SIZE_M,
    S3_LFR,
    ProductRecord,
    footprint,
    lonlat_transformer,
    product_href,
    snow_cover,
    utm_bounds,
)
from .solar import mean_sun_angles

_STAC_TEMPLATES = Path(__file__).parent / "templates" / "stac"


@functools.cache
def _stac_template(name: str) -> dict[str, Any]:
    """A data file of templates/stac/, parsed once (callers deep-copy what they change)."""
    with (_STAC_TEMPLATES / name).open(encoding="utf-8") as f:
        return json.load(f)


def api_links(name: str, **values: str) -> list[dict[str, Any]]:
    """The links ``name`` of templates/stac/links.json, ``{root}``, ``{collection}``... filled."""
    return fill_layout(_stac_template("links.json")[name], values)


def collection_ids(date: str | None = None) -> list[str]:
    """The collections of the API, in the order of the live landing page's child links.

    Without ``date``: those of 2025 (the tutorial's). With it: those listed on ``date``; a
    collection with ``listed_from`` (the Zarr v3 staging collection) appears from that day on.
    """
    found = _stac_template("collections.json")["collections"]
    return [
        c["id"]
        for c in found
        if "listed_from" not in c or (date is not None and c["listed_from"] <= date)
    ]


NOT_IMPLEMENTED = frozenset(
    {
        # A read-only replica: writes are answered 405, so no transaction extension.
        "https://api.stacspec.org/v1.0.0/collections/extensions/transaction",
        "https://api.stacspec.org/v1.0.0/ogcapi-features/extensions/transaction",
        # The fields extension would reshape every answer (include/exclude on GET, POST and
        # /items); no chapter needs it, so the replica refuses ``fields`` and says so here.
        "https://api.stacspec.org/v1.0.0/item-search#fields",
        "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
    }
)
"""Conformance classes of the live landing page the replica does not implement, so does not
declare (a client trusting ``conformsTo`` must never meet a class that answers 400 or 405)."""


def landing_metadata() -> dict[str, Any]:
    """id, title, description, stac_version and conformsTo of the live landing page.

    ``conformsTo`` keeps the live page's order but drops the classes in `NOT_IMPLEMENTED`.
    """
    landing = copy.deepcopy(_stac_template("collections.json")["landing"])
    landing["conformsTo"] = [c for c in landing["conformsTo"] if c not in NOT_IMPLEMENTED]
    return landing


def build_collections(base_url: str, date: str | None = None) -> list[dict[str, Any]]:
    """The collections listed on ``date`` (`collection_ids`) with links on ``base_url``."""
    listed = collection_ids(date)
    found = _stac_template("collections.json")["collections"]
    return [_collection(copy.deepcopy(c), base_url) for c in found if c["id"] in listed]


def _collection(spec: dict[str, Any], base_url: str) -> dict[str, Any]:
    where = {"root": base_url.rstrip("/"), "collection": spec["id"]}
    links = [*api_links("collection", **where), dict(_stac_template("collections.json")["license"])]
    if "sci:doi" in spec:
        links.append({"rel": "cite-as", "href": f"https://doi.org/{spec['sci:doi']}"})
    links += api_links("collection_queryables", **where)
    values = {**spec, "links": links, "providers": _providers(spec["mission"])}
    return fill_layout(_stac_template("collections.json")["document"], values)


def queryable_properties() -> dict[str, Any]:
    """The item properties a CQL2 ``filter`` can compare, as ``/queryables`` lists them."""
    return copy.deepcopy(_stac_template("queryables.json"))


def build_item(record: ProductRecord, base_url: str) -> dict[str, Any]:
    """The STAC Item of ``record`` as the live API serves it, with hrefs on ``base_url``."""
    root = base_url.rstrip("/")
    bbox, geometry = footprint(record)
    links = api_links("item", root=root, collection=record.collection, item=record.id)
    if record.collection == S2_L2A:
        links.append({"rel": "cite-as", "href": "https://doi.org/10.5270/S2_-znk9xsj"})
    links.append(dict(_stac_template("collections.json")["license"]))
    store_href = product_href(record, base_url)
    values = {
        "stac_extensions": list(_item_fields(record)["stac_extensions"]),
        "id": record.id,
        "collection": record.collection,
        "bbox": list(bbox),
        "geometry": geometry,
        "properties": _item_properties(record, bbox),
        "links": links,
        "assets": _item_assets(record, store_href),
    }
    item = fill_layout(_stac_template("item_fields.json")["document"], values)
    cpm_versions.adapt_item(record, item, store_href, root)
    return item


def _providers(mission: str) -> list[dict[str, Any]]:
    return fill_layout(_stac_template("collections.json")["providers"], {"mission": mission})


def _created(record: ProductRecord) -> str:
    """When the product was generated, as the live items' created/updated/published state it.

    Sentinel-2 and Sentinel-3 names carry it (the last timestamp of an S2 name,
    the third of an S3 name). Sentinel-1 names do not, and its real value
    is not published; the service states sensing end plus two hours, a typical
    near-real-time delay.
    """
    stamps = re.findall(r"\d{8}T\d{6}", record.id)
    if record.collection.startswith("sentinel-2-"):
        stamp = stamps[-1]
    elif record.collection.startswith("sentinel-3-"):
        stamp = stamps[2]
    else:
        return timefmt.iso(timefmt.parse(record.end_datetime) + dt.timedelta(hours=2), 0)
    return timefmt.iso(timefmt.parse_compact(stamp), 0)


def _item_fields(record: ProductRecord) -> dict[str, Any]:
    """Extensions and fixed properties of the items of the record's collection."""
    return _stac_template("item_fields.json")[record.collection]


def _item_properties(record: ProductRecord, bbox: tuple[float, ...]) -> dict[str, Any]:
    """The item's properties: per product, then those of its collection's items, in order."""
    values = {**vars(record), "datetime": record.datetime, "created": _created(record)}
    values["designator"] = INTERNATIONAL_DESIGNATORS[record.platform]
    properties = fill_layout(_stac_template("item_fields.json")["common_properties"], values)
    fields = _item_fields(record)
    if fields.get("tiled"):
        properties.update(_s2_properties(record, bbox))
    properties.update(copy.deepcopy(fields["properties"]))
    properties["providers"] = _providers(properties["providers"])
    if "processing:software" in fields["properties"]:
        # The CPM release (e.g. 2.5.6) named by the store's ``cpm_v256`` path segment.
        properties["processing:software"]["EOPF-CPM"] = ".".join(record.cpm_version[5:])
    if record.collection == S3_LFR:  # NR or NT, as the product's name states
        properties["product:timeliness_category"] = record.id.split("_")[-2]
    return properties


def _s2_properties(record: ProductRecord, bbox: tuple[float, ...]) -> dict[str, Any]:
    """The Sentinel-2 tile fields (``sentinel-2-tile`` of item_fields.json) of ``record``."""
    assert record.mgrs_tile is not None and record.epsg is not None
    tile = record.mgrs_tile
    xmin, ymin, xmax, ymax = utm_bounds(record)
    lon, lat = lonlat_transformer(record.epsg).transform((xmin + xmax) / 2, (ymin + ymax) / 2)
    sensing, baseline = record.id.split("_")[2:4]  # baseline "N0511": processing baseline 05.11
    version = f"{baseline[1:3]}.{baseline[3:5]}"
    datatake = f"G{record.id[:3]}_{sensing}_{record.absolute_orbit:06d}_N{version}"
    # The live items (May 2025, November 2025, March 2026 alike) put the tile's mean sun
    # *zenith* angle in view:sun_elevation (sic): for May tiles near 45 N they state about 30
    # degrees where the sun stood about 60 degrees high. The replica states the means the
    # store's other_metadata holds (`solar.mean_sun_angles`), under the same keys.
    zenith, azimuth = mean_sun_angles(record)
    properties = copy.deepcopy(_stac_template("item_fields.json")["sentinel-2-tile"])
    properties.update(
        {
            "grid:code": f"MGRS-{tile}",
            "proj:bbox": list(bbox),  # the live items give the lon/lat bbox here (sic), not metres
            "proj:code": f"EPSG:{record.epsg}",
            "mgrs:utm_zone": int(tile[:2]),
            "proj:centroid": {"lat": round(lat, 5), "lon": round(lon, 5)},
            "eo:cloud_cover": record.cloud_cover,
            "eo:snow_cover": snow_cover(record),
            "view:sun_azimuth": azimuth,
            "view:sun_elevation": zenith,
            "eopf:datatake_id": datatake,
            "mgrs:grid_square": tile[3:],
            "mgrs:latitude_band": tile[2],
            "processing:version": version,
        }
    )
    return properties


def _item_assets(record: ProductRecord, href: str) -> dict[str, Any]:
    """The item's assets: the collection's layout filled with this product's hrefs and grid."""
    layouts = _stac_template("item_assets.json")
    wavelengths = layouts["s2_band_wavelengths_nm"].get(record.platform, {})
    values = {
        "store": href,
        "component_group": record.component_group or "",
        **{f"{band}_nm": nm for band, nm in wavelengths.items()},
    }
    assets: dict[str, Any] = {}
    for key, spec in layouts[record.collection].items():
        assets[key] = fill_layout({k: v for k, v in spec.items() if k != "projected"}, values)
        if spec.get("projected"):
            assets[key].update(_projection_fields(record, spec["gsd"]))
    return assets


def fill_layout(value: Any, values: dict[str, Any]) -> Any:
    """A copy of a template with each ``{name}`` that ``values`` holds filled in.

    A string that is only ``{name}`` becomes ``values[name]`` itself, of any type (a list of
    links, the properties...); the one filler of links, collections, items and asset layouts.
    """
    if isinstance(value, dict):
        return {key: fill_layout(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_layout(item, values) for item in value]
    if isinstance(value, str) and (whole := re.fullmatch(r"{(\w+)}", value)) and whole[1] in values:
        return values[whole[1]]  # a value of any type, as it is (callers pass copies)
    if isinstance(value, str):
        return re.sub(r"{(\w+)}", lambda name: values.get(name[1], name[0]), value)
    return value


def _projection_fields(record: ProductRecord, gsd: int) -> dict[str, Any]:
    """proj:* of a gridded asset at ``gsd`` metres: the tile's extent, size and geotransform."""
    xmin, ymin, xmax, ymax = utm_bounds(record)
    size = S2_TILE_SIZE_M // gsd
    # Affine coefficients (a, b, c, d, e, f) plus the matrix's last row, as the live items write it.
    transform = [float(gsd), 0.0, float(xmin), 0.0, -float(gsd), float(ymax), 0.0, 0.0, 1.0]
    return {
        "proj:bbox": [float(xmin), float(ymin), float(xmax), float(ymax)],
        "proj:code": f"EPSG:{record.epsg}",
        "proj:shape": [size, size],
        "proj:transform": transform,
    }
