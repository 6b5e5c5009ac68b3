"""One builder for every product type: a real product's metadata, renamed, re-timed, re-placed.

Why data, not code per type: each type is an entry of ``templates/product_types.json`` (its
``_about`` explains the fields). Only what differs between two products of a type changes; the
rest is the template's, byte for byte: names and the platform code in every string and key,
every timestamp near sensing, the swath sizes, and in every embedded STAC (``stac_discovery``)
the values of the keys it already has (none added, so it states what the real product states).
Sentinel-2 arrays get their tile's projection. The tutorial's three types add a few rules
(`products`); the others get their pixels from the generic scene (`scenes.generic`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
from collections.abc import Callable
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
from .zmeta import array_paths, groupspec_to_zmetadata, rewrite_strings, set_shape

TEMPLATE_DIR = Path(__file__).parent / "templates"
Rules = Callable[[dict[str, Any], ProductRecord, dict[str, Any]], None]
"""A type's own rules: (metadata, record, name fields) -> None, changing the metadata."""


@functools.cache
def type_entries() -> dict[str, dict[str, Any]]:
    """Every entry of ``templates/product_types.json`` by product type (``_about`` left out)."""
    document = json.loads((TEMPLATE_DIR / "product_types.json").read_text(encoding="utf-8"))
    return {key: value for key, value in document.items() if not key.startswith("_")}


@functools.cache
def product_types() -> dict[str, dict[str, Any]]:
    """The types added by data alone (not the tutorial's three): their pixels are generic."""
    return {kind: entry for kind, entry in type_entries().items() if not entry.get("tutorial")}


@functools.cache
def _template_text(product_type: str) -> str:
    if product_type not in type_entries():
        raise ValueError(f"no template for product type {product_type!r}")
    entry = type_entries()[product_type]
    text = (TEMPLATE_DIR / entry["template"]).read_text(encoding="utf-8")
    if entry.get("format") == "groupspec":
        text = json.dumps(groupspec_to_zmetadata(json.loads(text)))
    return text


def load_template(product_type: str) -> dict[str, Any]:
    """A fresh copy of the template document (``.zmetadata`` layout) of ``product_type``."""
    return json.loads(_template_text(product_type))


def name_fields(record: ProductRecord, entry: dict[str, Any]) -> dict[str, Any]:
    """The record's fields, plus the groups its id matches in the entry's ``name_pattern``."""
    fields = {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
    if "name_pattern" in entry:
        found = re.search(entry["name_pattern"], record.id)
        assert found is not None, record.id
        fields.update(found.groupdict())
    return fields


def _renames(
    record: ProductRecord, entry: dict[str, Any], fields: dict[str, Any]
) -> list[tuple[str, str]]:
    """(template text, record's text) pairs: name, component group, tile, rewrites, platform."""
    pairs = [(entry["template_id"], record.id)] if "template_id" in entry else []
    if entry.get("template_group") and record.component_group:
        pairs.append((entry["template_group"], record.component_group))
    if entry.get("template_tile") and record.mgrs_tile and record.epsg:
        old_zone, new_zone = entry["template_epsg"] % 100, record.epsg % 100
        pairs += [
            (entry["template_tile"], f"T{record.mgrs_tile}"),
            (f"EPSG:{entry['template_epsg']}", f"EPSG:{record.epsg}"),
            (f"UTM zone {old_zone}N", f"UTM zone {new_zone}N"),
        ]
    pairs += [(old, new.format_map(fields)) for old, new in entry.get("rewrites", [])]
    old_code, new_code = platform_code(entry["template_platform"]), platform_code(record.platform)
    if old_code != new_code:
        pairs.append((f"{old_code}_", f"{new_code}_"))
    return pairs


def build_zmetadata(record: ProductRecord, rules: Rules | None = None) -> dict[str, Any]:
    """The consolidated ``.zmetadata`` document of ``record``, then its type's own ``rules``."""
    doc = load_template(record.product_type)
    entry = type_entries()[record.product_type]
    fields = name_fields(record, entry)
    template_start = timefmt.parse(entry["template_start"])
    start = timefmt.parse(record.start_datetime)
    meta = rewrite_strings(doc["metadata"], _renames(record, entry, fields), template_start, start)
    for path in entry.get("drop_arrays", []):
        del meta[f"{path}/.zarray"], meta[f"{path}/.zattrs"]
    swath = dict(entry.get("swath_dims", {}))
    if swath and record.swath_shape is not None:
        under = swath.pop("under")
        sizes = {dim: record.swath_shape[axis] for dim, axis in swath.items()}
        for path in array_paths(meta):
            if path.startswith(under):
                set_shape(meta, path, sizes)
    if record.utm_origin is not None:
        set_tile_projection(meta, record)
    for key, attrs in meta.items():
        if key.endswith(".zattrs") and isinstance(attrs.get("stac_discovery"), dict):
            _update_stac(attrs["stac_discovery"], record, entry)
    root = meta.get(".zattrs", {})
    for path, text in entry.get("set", {}).items():
        *parents, name = path.split("/")
        functools.reduce(dict.__getitem__, parents, root)[name] = text.format_map(fields)
    other = root.get("other_metadata")
    if record.utm_origin is not None and isinstance(other, dict):
        zenith, azimuth = mean_sun_angles(record)
        for name, value in (("zenith", zenith), ("azimuth", azimuth)):
            key = f"mean_sun_{name}_angle_in_deg_for_all_bands_all_detectors"
            if key in other:
                other[key] = value
    if rules is not None:
        rules(meta, record, fields)
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
    values: dict[str, Any] = {
        "start_datetime": timefmt.parse(record.start_datetime),
        "end_datetime": timefmt.parse(record.end_datetime),
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
        if isinstance(value, dt.datetime):  # as the template writes it: Z or +00:00, decimals
            written = props[key] if isinstance(props[key], str) else ""
            fraction = re.search(r"\.(\d+)", written)
            digits = min(len(fraction.group(1)), 6) if fraction else 0
            value = timefmt.iso(value, digits, zulu=written.endswith("Z"))
        props[key] = value
