"""One builder for every product type: a real product's metadata, renamed, re-timed, re-placed.

Why data, not code per type: each type is an entry of ``templates/product_types.json`` (its
``_about`` explains the fields). Only what differs between two products of a type changes; the
rest is the template's, byte for byte: names and the platform code in every string and key,
every timestamp near sensing, the swath sizes, and in every embedded STAC (``stac_discovery``)
the values of the keys it already has (none added, so it states what the real product states).
Sentinel-2 arrays get their tile's projection; each type's ``edits`` (by platform and CPM
version) are data too. The tutorial's three types add a few computed rules (`products`); the
others get their pixels from the generic scene (`scenes.generic`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
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
from .cpm_versions import at_least
from .solar import mean_sun_angles

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
    fields["utm_zone"] = None if record.epsg is None else record.epsg % 100
    fields["start"] = timefmt.parse(record.start_datetime)
    if "name_pattern" in entry:
        found = re.search(entry["name_pattern"], record.id)
        assert found is not None, record.id
        fields.update(found.groupdict())
    return fields


def _renames(
    record: ProductRecord, entry: dict[str, Any], edits: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """(template text, record's text) pairs: name, component group, rewrites, platform."""
    pairs = [(entry["template_id"], record.id)] if "template_id" in entry else []
    if entry.get("template_group") and record.component_group:
        pairs.append((entry["template_group"], record.component_group))
    for rewrites in [entry.get("rewrites", [])] + [edit.get("rewrites", []) for edit in edits]:
        pairs += [(old, new) for old, new in rewrites]
    old_code, new_code = platform_code(entry["template_platform"]), platform_code(record.platform)
    if old_code != new_code:
        pairs.append((f"{old_code}_", f"{new_code}_"))
    return pairs


def _applies(when: dict[str, str], record: ProductRecord) -> bool:
    """Whether an edit's condition (platform, CPM from / before a version) holds for ``record``."""
    return (
        when.get("platform", record.platform) == record.platform
        and ("cpm_from" not in when or at_least(record, when["cpm_from"]))
        and ("cpm_before" not in when or not at_least(record, when["cpm_before"]))
    )


def build_zmetadata(record: ProductRecord, rules: Rules | None = None) -> dict[str, Any]:
    """The consolidated ``.zmetadata`` document of ``record``: its type's renames, then
    projection, embedded STAC and sun angles, then its type's ``rules``, then its ``edits``."""
    doc = load_template(record.product_type)
    entry = type_entries()[record.product_type]
    fields = name_fields(record, entry)
    edits = [edit for edit in entry.get("edits", []) if _applies(edit.get("when", {}), record)]
    renames = [(old, new.format_map(fields)) for old, new in _renames(record, entry, edits)]
    old, new = timefmt.parse(entry["template_start"]), timefmt.parse(record.start_datetime)
    meta = rewrite_strings(doc["metadata"], renames, old, new)
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
    other = meta.get(".zattrs", {}).get("other_metadata")
    if record.utm_origin is not None and isinstance(other, dict):
        zenith, azimuth = mean_sun_angles(record)
        for name, value in (("zenith", zenith), ("azimuth", azimuth)):
            key = f"mean_sun_{name}_angle_in_deg_for_all_bands_all_detectors"
            if key in other:
                other[key] = value
    if rules is not None:
        rules(meta, record, fields)
    for edit in edits:
        for pattern in edit.get("drop", []):
            for key in fnmatch.filter(list(meta), pattern):
                del meta[key]
        for pattern, patch in edit.get("merge", {}).items():
            for key in fnmatch.filter(meta, pattern):
                _merge_patch(meta[key], patch, fields)
    return {"metadata": meta, "zarr_consolidated_format": doc["zarr_consolidated_format"]}


def _merge_patch(target: dict[str, Any], patch: dict[str, Any], fields: dict[str, Any]) -> None:
    """RFC 7396 JSON merge patch, in place; strings are filled from ``fields`` first.

    Written here (a few lines) rather than adding a package for it.
    """
    for name, value in patch.items():
        if value is None:
            target.pop(name, None)
        elif isinstance(value, dict):
            _merge_patch(target.setdefault(name, {}), value, fields)
        else:
            target[name] = value.format_map(fields) if isinstance(value, str) else value


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


# --- Steps on a template's text and arrays, apart from any product type ------------------------

_STAMPS = (  # (pattern, strptime format), applied in this order
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?"), "%Y-%m-%dT%H:%M:%S.%f"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?"), "%Y-%m-%d %H:%M:%S.%f"),
    (re.compile(r"(?<!\d)\d{8}T\d{6}(?!\d)"), "%Y%m%dT%H%M%S"),
    (re.compile(r"\d{2}-[A-Z]{3}-\d{4} \d{2}:\d{2}:\d{2}\.\d{6}"), "%d-%b-%Y %H:%M:%S.%f"),
)


def shift_timestamps(text: str, old: dt.datetime, new: dt.datetime) -> str:
    """Move every timestamp near the template's sensing time by (new - old).

    Processing and auxiliary-file times in the templates' histories sit within hours of
    sensing; shifting them keeps their order and spacing plausible. Times far from sensing
    (validity limits such as 2100-01-01, build dates) stay. A stamp keeps its format and decimals.
    """

    def shift(fmt: str, match: re.Match[str]) -> str:
        raw = match.group(0)
        fmt = fmt if "." in raw else fmt.removesuffix(".%f")
        try:
            moment = dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC)
        except ValueError:  # e.g. the "99999999T999999" of an open-ended validity
            return raw
        if abs(moment - old) > dt.timedelta(days=45):
            return raw
        return (moment + (new - old)).strftime(fmt)[: len(raw)].upper()

    for pattern, fmt in _STAMPS:
        text = pattern.sub(functools.partial(shift, fmt), text)
    return text


def rewrite_strings(
    tree: Any, replacements: list[tuple[str, str]], old: dt.datetime, new: dt.datetime
) -> Any:
    """Rename (literal replacements) and re-time (`shift_timestamps`) every string and key.

    Names go in as placeholders and come out after the shift, so a record sensed within the
    shift's window of the template keeps the stamps of its own name unshifted.
    """
    text = json.dumps(tree)
    for index, (before, _) in enumerate(replacements):
        text = text.replace(before, f"@@name{index}@@")
    text = shift_timestamps(text, old, new)
    for index, (_, after) in enumerate(replacements):
        text = text.replace(f"@@name{index}@@", after)
    return json.loads(text)


def set_shape(meta: dict[str, Any], path: str, sizes: dict[str, int]) -> None:
    """Resize ``path`` along the named dimensions; single-chunk dimensions stay single-chunk."""
    zarray = meta[f"{path}/.zarray"]
    dims = meta[f"{path}/.zattrs"].get("_ARRAY_DIMENSIONS", [])
    shape, chunks = list(zarray["shape"]), list(zarray["chunks"])
    for axis, dim in enumerate(dims):
        if dim in sizes:
            whole = chunks[axis] == shape[axis]
            shape[axis] = sizes[dim]
            chunks[axis] = sizes[dim] if whole else min(chunks[axis], sizes[dim])
    zarray["shape"], zarray["chunks"] = shape, chunks


def array_paths(meta: dict[str, Any]) -> list[str]:
    return [key[: -len("/.zarray")] for key in meta if key.endswith("/.zarray")]


def groupspec_to_zmetadata(spec: dict[str, Any]) -> dict[str, Any]:
    """A pydantic-zarr ``GroupSpec`` (Zarr v2) flattened into ``.zmetadata`` keys, no value changed.

    Some reference products were published as group specs: the same facts in another layout.
    """
    metadata: dict[str, Any] = {}
    array_fields = ("chunks", "compressor", "dtype", "fill_value", "filters", "order", "shape")

    def visit(node: dict[str, Any], prefix: str) -> None:
        if node.get("members") is None:  # an array
            zarray = {field: node.get(field) for field in array_fields}
            zarray["zarr_format"] = 2
            if "dimension_separator" in node:
                zarray["dimension_separator"] = node["dimension_separator"]
            metadata[f"{prefix}.zarray"] = zarray
            metadata[f"{prefix}.zattrs"] = node.get("attributes", {})
            return
        metadata[f"{prefix}.zgroup"] = {"zarr_format": 2}
        metadata[f"{prefix}.zattrs"] = node.get("attributes", {})
        for name, member in node["members"].items():
            visit(member, f"{prefix}{name}/")

    visit(spec, "")
    return {"metadata": metadata, "zarr_consolidated_format": 1}
