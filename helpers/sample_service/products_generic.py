"""Product types added by data alone: a real product's metadata, renamed, re-timed and re-placed.

Why this module exists: the catalogue has collections (Sentinel-1 GRD, Sentinel-2 L1C,
Sentinel-3 OLCI EFR, SLSTR RBT and LST) that no chapter reads pixel by pixel, but that a reader
exploring the catalogue opens. Each such type is one entry of ``templates/product_types.json``
(which real product's metadata to start from, and what in it names that product) plus records
in ``templates/catalogue/``; this module turns the entry into the store of any record, without
code per mission. Its pixels come from the generic scene (`scenes.generic`).

What changes from the template (everything else is the template's, byte for byte): the
product's name and its platform's code in every string and key, every timestamp near sensing
(shifted to the record's sensing time), the component groups of Sentinel-1 products, and in
every embedded STAC (``stac_discovery``) the values of the keys it already has: id, footprint,
sensing and creation times, platform, orbits, cloud and snow cover, projection. No key is added,
so the embedded STAC states what the real product states. Tiled (Sentinel-2) products also get
their tile's projection attributes on every gridded array, as `products` does for L2A, and the
mean sun angles of the one solar model in ``other_metadata``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

from pyproj import CRS

from . import timefmt
from .catalog import (
    INTERNATIONAL_DESIGNATORS,
    S2_TILE_SIZE_M,
    ProductRecord,
    footprint,
    platform_code,
    snow_cover,
    utm_bounds,
)
from .solar import mean_sun_angles
from .zmeta import array_paths, groupspec_to_zmetadata, rewrite_strings

TEMPLATE_DIR = Path(__file__).parent / "templates"


@functools.cache
def product_types() -> dict[str, dict[str, Any]]:
    """The entries of ``templates/product_types.json`` by product type (``_about`` left out)."""
    document = json.loads((TEMPLATE_DIR / "product_types.json").read_text(encoding="utf-8"))
    return {key: value for key, value in document.items() if not key.startswith("_")}


@functools.cache
def _template_text(product_type: str) -> str:
    entry = product_types()[product_type]
    text = (TEMPLATE_DIR / entry["template"]).read_text(encoding="utf-8")
    if entry.get("format") == "groupspec":
        text = json.dumps(groupspec_to_zmetadata(json.loads(text)))
    return text


def load_template(product_type: str) -> dict[str, Any]:
    """A fresh copy of the template document (``.zmetadata`` layout) of ``product_type``."""
    return json.loads(_template_text(product_type))


def build_zmetadata(record: ProductRecord) -> dict[str, Any]:
    """The consolidated ``.zmetadata`` document of a record of a data-driven product type."""
    entry = product_types()[record.product_type]
    doc = load_template(record.product_type)
    start = timefmt.parse(record.start_datetime)
    replacements = [(entry["template_id"], record.id)]
    if entry.get("template_group") and record.component_group:
        replacements.append((entry["template_group"], record.component_group))
    if entry.get("template_tile") and record.mgrs_tile and record.epsg:
        old_zone, new_zone = entry["template_epsg"] % 100, record.epsg % 100
        replacements += [
            (entry["template_tile"], f"T{record.mgrs_tile}"),
            (f"EPSG:{entry['template_epsg']}", f"EPSG:{record.epsg}"),
            (f"UTM zone {old_zone}N", f"UTM zone {new_zone}N"),
        ]
    old_code, new_code = platform_code(entry["template_platform"]), platform_code(record.platform)
    if old_code != new_code:
        replacements.append((f"{old_code}_", f"{new_code}_"))
    template_start = timefmt.parse(entry["template_start"])
    # Names go in as placeholders and come out after the timestamp shift, so a record sensed
    # within the shift's window of the template keeps the stamps of its own name unshifted.
    placeholders = [(old, f"@@name{index}@@") for index, (old, _) in enumerate(replacements)]
    text = json.dumps(rewrite_strings(doc["metadata"], placeholders, template_start, start))
    for (_, mark), (_, new) in zip(placeholders, replacements, strict=True):
        text = text.replace(mark, new)
    meta = json.loads(text)
    if record.utm_origin is not None:
        set_tile_projection(meta, record)
    for key, attrs in meta.items():
        if key.endswith(".zattrs") and isinstance(attrs.get("stac_discovery"), dict):
            _update_stac(attrs["stac_discovery"], record, entry)
    other = meta.get(".zattrs", {}).get("other_metadata")
    if record.utm_origin is not None and isinstance(other, dict):
        zenith, azimuth = mean_sun_angles(record)
        for name, value in (("zenith", zenith), ("azimuth", azimuth)):
            key = f"mean_sun_{name}_angle_in_deg_for_all_bands_all_detectors"
            if key in other:
                other[key] = value
    return {"metadata": meta, "zarr_consolidated_format": doc["zarr_consolidated_format"]}


def set_tile_projection(meta: dict[str, Any], record: ProductRecord) -> None:
    """The tile's ``proj:*`` attributes on every gridded array that states them."""
    assert record.epsg is not None
    xmin, ymin, xmax, ymax = utm_bounds(record)
    wkt = CRS.from_epsg(record.epsg).to_wkt("WKT1_GDAL")
    for path in array_paths(meta):
        attrs = meta[f"{path}/.zattrs"]
        if "proj:epsg" not in attrs:
            continue
        res = S2_TILE_SIZE_M // attrs["proj:shape"][-1]
        attrs["proj:epsg"] = record.epsg
        attrs["proj:bbox"] = [float(xmin), float(ymin), float(xmax), float(ymax)]
        attrs["proj:transform"] = [
            float(res), 0.0, float(xmin), 0.0, -float(res), float(ymax), 0.0, 0.0, 1.0,
        ]  # fmt: skip
        if "proj:wkt2" in attrs:
            attrs["proj:wkt2"] = wkt


def _same_style(template_value: Any, moment: dt.datetime) -> str:
    """``moment`` written as the template writes its times (``Z`` or ``+00:00``)."""
    zulu = isinstance(template_value, str) and template_value.endswith("Z")
    return timefmt.iso(moment, zulu=zulu)


def _created(record: ProductRecord, entry: dict[str, Any]) -> dt.datetime:
    """Processing time: the name's stamp named by ``created_stamp``, else sensing end + 2 h."""
    stamps = re.findall(r"\d{8}T\d{6}", record.id)
    index = entry.get("created_stamp")
    if index is None or len(stamps) <= abs(index):
        return timefmt.parse(record.end_datetime) + dt.timedelta(hours=2)
    return timefmt.parse_compact(stamps[index])


def _update_stac(stac: dict[str, Any], record: ProductRecord, entry: dict[str, Any]) -> None:
    """Set the record's values on the keys this embedded STAC already has (none added)."""
    if "bbox" in stac:
        bbox, geometry = footprint(record)
        stac["bbox"] = bbox
        if "geometry" in stac:
            stac["geometry"] = geometry
    props = stac.get("properties")
    if not isinstance(props, dict):
        return
    start, end = timefmt.parse(record.start_datetime), timefmt.parse(record.end_datetime)
    values: dict[str, Any] = {
        "start_datetime": start,
        "end_datetime": end,
        "created": _created(record, entry),
        "platform": record.platform,
        "sat:absolute_orbit": record.absolute_orbit,
        "sat:relative_orbit": record.relative_orbit,
        "sat:platform_international_designator": INTERNATIONAL_DESIGNATORS[record.platform],
        "eo:cloud_cover": record.cloud_cover,
    }
    if record.utm_origin is not None:
        xmin, ymin, xmax, ymax = utm_bounds(record)
        values["proj:bbox"] = [float(xmin), float(ymin), float(xmax), float(ymax)]
        values["proj:epsg"] = record.epsg
        values["eo:snow_cover"] = snow_cover(record)
    for key, value in values.items():
        if key not in props or value is None:
            continue
        is_time = isinstance(value, dt.datetime)
        props[key] = _same_style(props[key], value) if is_time else value
