"""The EOPF catalogue as the STAC API states it: collections and items built from the records.

Why this module exists: an item's hrefs, footprint and time must match the Zarr store the same
record describes, so the STAC view of a record is built from the record alone. Field values
that are the same for every item (asset titles, roles, band tables, collection texts) are data
files in templates/stac/ (sources in its README.md); what varies per product is derived from
the record here. `stac_api` serves what this module builds.
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
    S1_OCN,
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

STAC_VERSION = "1.1.0"
_STAC_TEMPLATES = Path(__file__).parent / "templates" / "stac"

_EXT = "https://stac-extensions.github.io"
_EOPF_EXTENSION = "https://cs-si.github.io/eopf-stac-extension/v1.2.0/schema.json"
_ITEM_EXTENSIONS = {
    # As on the May-2025 sentinel-2-l2a items (xcube-eopf cassettes, templates/stac/README.md).
    S2_L2A: [
        f"{_EXT}/timestamps/v1.1.0/schema.json",
        f"{_EXT}/eo/v1.1.0/schema.json",
        f"{_EXT}/sat/v1.0.0/schema.json",
        f"{_EXT}/projection/v2.0.0/schema.json",
        f"{_EXT}/mgrs/v1.0.0/schema.json",
        f"{_EXT}/grid/v1.1.0/schema.json",
        f"{_EXT}/view/v1.0.0/schema.json",
        f"{_EXT}/processing/v1.2.0/schema.json",
        f"{_EXT}/product/v0.1.0/schema.json",
        f"{_EXT}/scientific/v1.0.0/schema.json",
        _EOPF_EXTENSION,
        f"{_EXT}/raster/v1.1.0/schema.json",
    ],
    S1_OCN: [
        f"{_EXT}/timestamps/v1.1.0/schema.json",
        f"{_EXT}/sat/v1.0.0/schema.json",
        f"{_EXT}/processing/v1.2.0/schema.json",
        f"{_EXT}/product/v0.1.0/schema.json",
        f"{_EXT}/sar/v1.0.0/schema.json",
        _EOPF_EXTENSION,
    ],
    S3_LFR: [
        f"{_EXT}/timestamps/v1.1.0/schema.json",
        f"{_EXT}/sat/v1.0.0/schema.json",
        f"{_EXT}/eo/v2.0.0/schema.json",
        f"{_EXT}/processing/v1.2.0/schema.json",
        f"{_EXT}/product/v0.1.0/schema.json",
        f"{_EXT}/version/v1.2.0/schema.json",
    ],
}


def _item_extensions(collection: str) -> list[str]:
    """The extensions the items of ``collection`` list (before `cpm_versions` adapts them)."""
    if collection in _ITEM_EXTENSIONS:
        return _ITEM_EXTENSIONS[collection]
    return _stac_template("item_fields.json")[collection]["stac_extensions"]


@functools.cache
def _stac_template(name: str) -> dict[str, Any]:
    """A data file of templates/stac/, parsed once (callers deep-copy what they change)."""
    with (_STAC_TEMPLATES / name).open(encoding="utf-8") as f:
        return json.load(f)


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


def build_collection(collection_id: str, base_url: str) -> dict[str, Any] | None:
    """The STAC Collection ``collection_id`` with links on ``base_url``, or None if unknown."""
    data = _stac_template("collections.json")
    found = [c for c in data["collections"] if c["id"] == collection_id]
    if not found:
        return None
    spec = copy.deepcopy(found[0])
    root = base_url.rstrip("/")
    self_href = f"{root}/collections/{collection_id}"
    links = [
        {"rel": "items", "type": "application/geo+json", "href": f"{self_href}/items"},
        {"rel": "parent", "type": "application/json", "href": f"{root}/"},
        {"rel": "root", "type": "application/json", "href": f"{root}/"},
        {"rel": "self", "type": "application/json", "href": self_href},
        dict(data["license"]),
    ]
    if "sci:doi" in spec:
        links.append({"rel": "cite-as", "href": f"https://doi.org/{spec['sci:doi']}"})
    links.append(
        {
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "type": "application/schema+json",
            "title": "Queryables",
            "href": f"{self_href}/queryables",
        }
    )
    return {
        "id": collection_id,
        "type": "Collection",
        "links": links,
        "title": spec["title"],
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[spec["temporal_start"], None]]},
        },
        "license": "proprietary",
        "keywords": spec["keywords"],
        "providers": _providers(spec["mission"]),
        "summaries": spec["summaries"],
        "description": spec["description"],
        "stac_version": STAC_VERSION,
        "stac_extensions": spec["stac_extensions"],
    }


def build_collections(base_url: str, date: str | None = None) -> list[dict[str, Any]]:
    """The collections listed on ``date`` (`collection_ids`) with links on ``base_url``."""
    found = [build_collection(cid, base_url) for cid in collection_ids(date)]
    return [spec for spec in found if spec is not None]


def queryable_properties() -> dict[str, Any]:
    """The item properties a CQL2 ``filter`` can compare, as ``/queryables`` lists them."""
    return copy.deepcopy(_stac_template("queryables.json"))


def build_item(record: ProductRecord, base_url: str) -> dict[str, Any]:
    """The STAC Item of ``record`` as the live API serves it, with hrefs on ``base_url``."""
    root = base_url.rstrip("/")
    bbox, geometry = footprint(record)
    collection_href = f"{root}/collections/{record.collection}"
    links = [
        {"rel": "collection", "type": "application/json", "href": collection_href},
        {"rel": "parent", "type": "application/json", "href": collection_href},
        {"rel": "root", "type": "application/json", "href": f"{root}/"},
        {
            "rel": "self",
            "type": "application/geo+json",
            "href": f"{collection_href}/items/{record.id}",
        },
    ]
    if record.collection == S2_L2A:
        links.append({"rel": "cite-as", "href": "https://doi.org/10.5270/S2_-znk9xsj"})
    links.append(dict(_stac_template("collections.json")["license"]))
    store_href = product_href(record, base_url)
    item = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": list(_item_extensions(record.collection)),
        "id": record.id,
        "collection": record.collection,
        "bbox": list(bbox),
        "geometry": geometry,
        "properties": _item_properties(record, bbox),
        "links": links,
        "assets": _item_assets(record, store_href),
    }
    cpm_versions.adapt_item(record, item, store_href, root)
    return item


def _providers(mission: str) -> list[dict[str, Any]]:
    providers = copy.deepcopy(_stac_template("collections.json")["providers"])
    for provider in providers:
        provider["url"] = provider["url"].format(mission=mission)
    return providers


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


def _item_properties(record: ProductRecord, bbox: tuple[float, ...]) -> dict[str, Any]:
    created = _created(record)
    common: dict[str, Any] = {
        "created": created,
        "updated": created,
        "published": created,
        "datetime": record.datetime,
        "start_datetime": record.start_datetime,
        "end_datetime": record.end_datetime,
        "platform": record.platform,
        "product:type": record.product_type,
        "sat:relative_orbit": record.relative_orbit,
        "sat:absolute_orbit": record.absolute_orbit,
        "sat:platform_international_designator": INTERNATIONAL_DESIGNATORS[record.platform],
        "product:timeliness": "PT3H",
    }
    if record.collection == S2_L2A:
        return {**common, **_s2_properties(record, bbox)}
    fields = _stac_template("item_fields.json").get(record.collection)
    if fields is not None:
        return {**common, **_generic_properties(record, bbox, fields)}
    if record.collection == S1_OCN:
        return {
            **common,
            "mission": "Sentinel-1",
            "providers": _providers("sentinel-1"),
            "constellation": "sentinel-1",
            "instruments": ["sar"],
            "sat:orbit_state": "ascending",
            "processing:level": "L2",
            "processing:software": {"EOPF-CPM": _cpm_release(record)},
            "product:timeliness_category": "NRT",
            "sar:instrument_mode": "IW",
            "sar:frequency_band": "C",
            "sar:center_frequency": 5.405,
            "sar:polarizations": ["VV", "VH"],
            "sar:product_type": "OCN",
            "eopf:instrument_mode": "IW",
        }
    return {
        **common,
        "gsd": 300.0,
        "mission": "Sentinel-3",
        "providers": _providers("sentinel-3"),
        "deprecated": False,
        "instruments": ["olci"],
        "constellation": "sentinel-3",
        "sat:orbit_state": "descending",
        "processing:level": "L2",
        "processing:lineage": "systematic",
        "processing:software": {"EOPF-CPM": _cpm_release(record)},
        "product:timeliness_category": record.id.split("_")[-2],
    }


def _generic_properties(
    record: ProductRecord, bbox: tuple[float, ...], fields: dict[str, Any]
) -> dict[str, Any]:
    """Properties of a collection described by ``templates/stac/item_fields.json``.

    The collection's fixed properties, over the Sentinel-2 tile fields for tiled collections;
    the providers of its mission; the product's CPM release in ``processing:software``.
    """
    properties = _s2_properties(record, bbox) if fields.get("tiled") else {}
    properties["providers"] = _providers(fields["providers"])
    properties.update(copy.deepcopy(fields["properties"]))
    if "processing:software" in fields["properties"]:
        properties["processing:software"]["EOPF-CPM"] = _cpm_release(record)
    return properties


def _cpm_release(record: ProductRecord) -> str:
    """The CPM release (e.g. 2.5.6) named by the store's ``cpm_v256`` path segment."""
    digits = record.cpm_version.removeprefix("cpm_v")
    return ".".join(digits)


def _s2_properties(record: ProductRecord, bbox: tuple[float, ...]) -> dict[str, Any]:
    assert record.mgrs_tile is not None and record.epsg is not None
    tile = record.mgrs_tile
    xmin, ymin, xmax, ymax = utm_bounds(record)
    to_lonlat = lonlat_transformer(record.epsg)
    lon, lat = to_lonlat.transform((xmin + xmax) / 2, (ymin + ymax) / 2)
    sensing = record.id.split("_")[2]
    baseline = record.id.split("_")[3]  # "N0511": processing baseline 05.11
    version = f"{baseline[1:3]}.{baseline[3:5]}"
    return {
        "gsd": 10.0,
        "mission": "copernicus",
        "sci:doi": "10.5270/S2_-znk9xsj",
        "grid:code": f"MGRS-{tile}",
        # The live items give the lon/lat bbox here too (sic), not metres.
        "proj:bbox": list(bbox),
        "proj:code": f"EPSG:{record.epsg}",
        "providers": _providers("copernicus"),
        "instruments": ["msi"],
        "constellation": "sentinel-2",
        "mgrs:utm_zone": int(tile[:2]),
        "proj:centroid": {"lat": round(lat, 5), "lon": round(lon, 5)},
        "eo:cloud_cover": record.cloud_cover,
        "eo:snow_cover": snow_cover(record),
        **_sun_view(record),
        "sat:orbit_state": "descending",
        "eopf:datatake_id": f"G{record.id[:3]}_{sensing}_{record.absolute_orbit:06d}_N{version}",
        "mgrs:grid_square": tile[3:],
        "processing:level": "L2A",
        "mgrs:latitude_band": tile[2],
        "processing:lineage": "IPF L2A processor",
        "processing:version": version,
        "processing:facility": "ESA",
        "processing:software": {"Sentinel-2 IPF": " "},
        "eopf:instrument_mode": "INS-NOBS",
        "product:timeliness_category": "NRT",
    }


def _sun_view(record: ProductRecord) -> dict[str, float]:
    """``view:sun_azimuth`` and ``view:sun_elevation`` as the live Sentinel-2 items state them.

    The live items (May 2025, November 2025, March 2026 alike) put the tile's mean sun
    *zenith* angle in ``view:sun_elevation`` (sic): for May tiles near 45 N they state about
    30 degrees where the sun stood about 60 degrees high. The replica states the same means
    the store's ``other_metadata`` holds (`solar.mean_sun_angles`), under the same keys.
    """
    zenith, azimuth = mean_sun_angles(record)
    return {"view:sun_azimuth": azimuth, "view:sun_elevation": zenith}


def _item_assets(record: ProductRecord, href: str) -> dict[str, Any]:
    """The item's assets: the collection's layout with this product's hrefs and grid."""
    layouts = _stac_template("item_assets.json")
    wavelengths = layouts["s2_band_wavelengths_nm"].get(record.platform, {})
    assets: dict[str, Any] = {}
    for key, spec in layouts[record.collection].items():
        asset: dict[str, Any] = {}
        for field_name, value in spec.items():
            if field_name == "href_suffix":
                asset["href"] = href + _fill(value, record, wavelengths)
            elif field_name == "alternate":
                alternate = copy.deepcopy(value)
                xarray_alt = alternate["xarray"]
                suffix = xarray_alt.pop("href_suffix")
                alternate["xarray"] = {"href": href + suffix, **xarray_alt}
                asset["alternate"] = alternate
            elif field_name == "description":
                asset["description"] = _fill(value, record, wavelengths)
            elif field_name != "projected":
                asset[field_name] = copy.deepcopy(value)
        if spec.get("projected"):
            asset.update(_projection_fields(record, spec["gsd"]))
        assets[key] = asset
    return assets


def _fill(template: str, record: ProductRecord, wavelengths: dict[str, str]) -> str:
    """Fill ``{component_group}`` and ``{wavelength_nm}`` placeholders of a layout string."""
    if "{component_group}" in template:
        template = template.replace("{component_group}", record.component_group or "")
    if "{wavelength_nm}" in template:
        band = re.search(r"spectral band (b\w+) ", template)
        template = template.replace(
            "{wavelength_nm}", wavelengths.get(band.group(1) if band else "", "")
        )
    return template


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
