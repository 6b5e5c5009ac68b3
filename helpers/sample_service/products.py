"""The Zarr metadata of every product: real EOPF templates, adapted to each record.

Why this module exists: the book teaches how a real EOPF product is laid out,
so the sample stores must not invent structure. Each product type starts from
the verbatim ``.zmetadata`` of a real product (``templates/``, sources in
``templates/README.md``) and only what differs between two products of that
type is changed: names, times, footprint, projection, sizes of the swath
grids. What the sample service knows about a product (``catalog``) and what
its store says (this module) therefore agree by construction.

The tutorial's three product types are adapted here, rule by rule, to the facts
its printed outputs fix; every other type is data-driven (`products_generic`,
``templates/product_types.json``) and this module hands its records over.

Public: `build_zmetadata` (the consolidated metadata document of one product),
`array_specs` and `ArraySpec` (each array's shape, chunking, dtype and codec,
decoded; from `zmeta`), `load_template`, `TEMPLATE_FILES` and `PRODUCT_TYPES`.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import cpm_versions, products_generic, timefmt
from .catalog import (
    INTERNATIONAL_DESIGNATORS,
    ProductRecord,
    footprint,
    platform_code,
    snow_cover,
    utm_bounds,
)
from .solar import mean_sun_angles
from .zmeta import ArraySpec, array_paths, array_specs, rewrite_strings, set_shape

__all__ = [
    "PRODUCT_TYPES",
    "TEMPLATE_FILES",
    "ArraySpec",
    "array_specs",
    "build_zmetadata",
    "copy_zmetadata",
    "dump_document",
    "load_template",
]

TEMPLATE_DIR = Path(__file__).parent / "templates"
_ADAPTED_TEMPLATE_FILES = {
    "S02MSIL2A": "S02MSIL2A.zmetadata.json",
    "S01SIWOCN": "S01SIWOCN.zmetadata.json",
    "S03OLCLFR": "S03OLCLFR.zmetadata.json",
}
"""The product types adapted here by hand (the tutorial's three); the others are data-driven
(`products_generic`, ``templates/product_types.json``)."""
TEMPLATE_FILES = {
    **_ADAPTED_TEMPLATE_FILES,
    **{kind: entry["template"] for kind, entry in products_generic.product_types().items()},
}
PRODUCT_TYPES = tuple(TEMPLATE_FILES)

# Central wavelengths printed by the tutorial for its S2B product (N0511):
# "BOA reflectance ... b02 492.3 nm" etc. The S2A template states the S2A
# values (492.7, 559.8, 664.6, 832.8 nm), which are the published S2A band
# centres; the difference follows the platform, not the baseline, so S2A
# products keep the template's values (the STAC items of the service do too).
S2B_CENTRAL_WAVELENGTHS = {"b02": 492.3, "b03": 559.0, "b04": 665.0, "b08": 833.0}

# The products the templates were taken from, and what identifies them.
_S2_TEMPLATE_ID = "S2A_MSIL2A_20220428T100601_N0400_R022_T32TPS_20220428T141313"
_S2_TEMPLATE_START = dt.datetime(2022, 4, 28, 10, 6, 1, tzinfo=dt.UTC)
_OCN_TEMPLATE_GROUP = "S01SIWOCN_20250321T063156_0025_A334_2479_0738CE_VV"
_OCN_TEMPLATE_START = dt.datetime(2025, 3, 21, 6, 31, 56, 675155, tzinfo=dt.UTC)
_LFR_TEMPLATE_ID = (
    "S3B_OL_2_LFR____20250416T063752_20250416T064052_20250416T083835_0179_105_248_3240_ESA_O_NR_003"
)
_LFR_TEMPLATE_START = dt.datetime(2025, 4, 16, 6, 37, 51, 892834, tzinfo=dt.UTC)

# The tutorial's LFR product (cpm_v256) has 38 arrays where the April-2025
# template has 46; templates/README.md explains which 8 are left out and why.
LFR_ARRAYS_NOT_IN_CPM_V256 = (
    "measurements/altitude",
    "measurements/time_stamp",
    "quality/altitude",
    "quality/time_stamp",
    "conditions/image/time_stamp",
    "conditions/meteorology/latitude",
    "conditions/meteorology/longitude",
    "conditions/meteorology/wind_vector",
)
# cpm_v256 prints these two as float32 (the template stores integers); the
# integer fill value is kept as a float, as the template does for gifapar.
LFR_FLOAT_IN_CPM_V256 = {
    "conditions/image/detector_index": -1.0,
    "conditions/image/frame_offset": -128.0,
}


@functools.cache
def _template_text(product_type: str) -> str:
    return (TEMPLATE_DIR / _ADAPTED_TEMPLATE_FILES[product_type]).read_text(encoding="utf-8")


def load_template(product_type: str) -> dict[str, Any]:
    """A fresh copy of the template document of ``product_type`` (``.zmetadata`` layout)."""
    if product_type not in _ADAPTED_TEMPLATE_FILES:
        return products_generic.load_template(product_type)
    return json.loads(_template_text(product_type))


def build_zmetadata(record: ProductRecord) -> dict[str, Any]:
    """The consolidated ``.zmetadata`` document of ``record``'s store."""
    builders = {"S02MSIL2A": _build_s2, "S01SIWOCN": _build_ocn, "S03OLCLFR": _build_lfr}
    if record.product_type in products_generic.product_types():
        return products_generic.build_zmetadata(record)
    if record.product_type not in builders:
        raise ValueError(f"no template for product type {record.product_type!r}")
    return builders[record.product_type](record)


# --------------------------------------------------------------------------
# Sentinel-2 L2A


def s2_name_parts(record: ProductRecord) -> dict[str, str]:
    """The fields of a Sentinel-2 product name (platform, sensing, baseline, ...)."""
    platform, _, sensing, baseline, orbit, tile, processed = record.id.split("_")
    return {
        "platform": platform,
        "sensing": sensing,
        "baseline": baseline,
        "version": f"{baseline[1:3]}.{baseline[3:5]}",
        "orbit": orbit,
        "tile": tile,
        "processed": processed,
    }


def s2_wavelengths(record: ProductRecord) -> dict[str, float]:
    """Central wavelengths (nm) that differ from the S2A template for this platform."""
    return dict(S2B_CENTRAL_WAVELENGTHS) if record.platform == "sentinel-2b" else {}


def _build_s2(record: ProductRecord) -> dict[str, Any]:
    assert record.epsg is not None and record.utm_origin is not None
    doc = load_template("S02MSIL2A")
    parts = s2_name_parts(record)
    start = timefmt.parse(record.start_datetime)
    zone = record.epsg % 100
    replacements = [
        (_S2_TEMPLATE_ID, record.id),
        ("T32TPS", parts["tile"]),
        ("A035769", f"A{record.absolute_orbit:06d}"),
        ("N04.00", f"N{parts['version']}"),
        ("_R022_", f"_{parts['orbit']}_"),
        ("S2A_", f"{parts['platform']}_"),
        ("EPSG:32632", f"EPSG:{record.epsg}"),
        ("UTM zone 32N", f"UTM zone {zone}N"),
    ]
    meta = rewrite_strings(doc["metadata"], replacements, _S2_TEMPLATE_START, start)

    products_generic.set_tile_projection(meta, record)
    wavelengths = s2_wavelengths(record)
    for path in array_paths(meta):
        attrs = meta[f"{path}/.zattrs"]
        band = path.rsplit("/", 1)[-1]
        if path.startswith("measurements/reflectance/") and band in wavelengths:
            _set_wavelength(attrs, wavelengths[band])
    _s2_meteorology(meta, record, start)
    _s2_root_attrs(meta[".zattrs"], record, parts, start, wavelengths)
    cpm_versions.adapt_s2_metadata(record, meta)
    return {"metadata": meta, "zarr_consolidated_format": doc["zarr_consolidated_format"]}


def _set_wavelength(attrs: dict[str, Any], nanometres: float) -> None:
    for holder in (attrs, attrs.get("_eopf_attrs", {})):
        if "long_name" in holder:
            holder["long_name"] = re.sub(r"[\d.]+ nm$", f"{nanometres:.1f} nm", holder["long_name"])


def s2_lonlat_bounds(record: ProductRecord) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile, in degrees."""
    bbox, _ = footprint(record)
    return bbox[0], bbox[1], bbox[2], bbox[3]


def meteo_grid(record: ProductRecord) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes (north to south) and longitudes of the 9 x 9 CAMS/ECMWF grid over a tile."""
    west, south, east, north = s2_lonlat_bounds(record)
    lats = np.round(np.linspace(north, south, 9), 3)
    lons = np.round(np.linspace(west, east, 9), 3)
    return lats, lons


def _s2_meteorology(meta: dict[str, Any], record: ProductRecord, start: dt.datetime) -> None:
    lats, lons = meteo_grid(record)
    grid_attrs = {
        "GRIB_latitudeOfFirstGridPointInDegrees": float(lats[0]),
        "GRIB_latitudeOfLastGridPointInDegrees": float(lats[-1]),
        "GRIB_longitudeOfFirstGridPointInDegrees": float(lons[0]),
        "GRIB_longitudeOfLastGridPointInDegrees": float(lons[-1]),
        "GRIB_iDirectionIncrementInDegrees": round(float(lons[1] - lons[0]), 3),
        "GRIB_jDirectionIncrementInDegrees": round(float(lats[0] - lats[1]), 3),
    }
    for source in ("cams", "ecmwf"):
        group = f"conditions/meteorology/{source}"
        for path in array_paths(meta):
            if not path.startswith(group + "/"):
                continue
            attrs = meta[f"{path}/.zattrs"]
            if "GRIB_Nx" in attrs:
                attrs.update(grid_attrs)
        meta[f"{group}/time/.zattrs"]["units"] = f"days since {start:%Y-%m-%d} 00:00:00"
        meta[f"{group}/valid_time/.zattrs"]["units"] = f"days since {start:%Y-%m-%d %H:%M}:00"


def _s2_root_attrs(
    attrs: dict[str, Any],
    record: ProductRecord,
    parts: dict[str, str],
    start: dt.datetime,
    wavelengths: dict[str, float],
) -> None:
    assert record.epsg is not None
    bbox, geometry = footprint(record)
    xmin, ymin, xmax, ymax = utm_bounds(record)
    processed = dt.datetime.strptime(parts["processed"], "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)

    stac = attrs["stac_discovery"]
    stac["id"] = record.id
    stac["bbox"] = bbox
    stac["geometry"] = geometry
    props = stac["properties"]
    props.update(
        {
            "datetime": timefmt.iso(start, zulu=False),
            "start_datetime": timefmt.iso(timefmt.parse(record.start_datetime), zulu=False),
            "end_datetime": timefmt.iso(timefmt.parse(record.end_datetime), zulu=False),
            "created": processed.isoformat(),
            "platform": record.platform,
            "eo:cloud_cover": record.cloud_cover,
            "eo:snow_cover": snow_cover(record),
            "eopf:baseline": parts["version"],
            "eopf:data_take_id": f"G{parts['platform']}_{parts['sensing']}_"
            f"{record.absolute_orbit:06d}_N{parts['version']}",
            "proj:bbox": [float(xmin), float(ymin), float(xmax), float(ymax)],
            "proj:epsg": record.epsg,
            "sat:absolute_orbit": record.absolute_orbit,
            "sat:relative_orbit": record.relative_orbit,
            "sat:platform_international_designator": INTERNATIONAL_DESIGNATORS[record.platform],
        }
    )
    for band in props.get("bands", []):
        if band["name"] in wavelengths:
            band["center_wavelength"] = wavelengths[band["name"]]
    for band in stac["assets"].get("analytic", {}).get("eo:bands", []):
        if f"b{band['name'].lower()}" in wavelengths:
            band["center_wavelength"] = wavelengths[f"b{band['name'].lower()}"] / 1000

    other = attrs["other_metadata"]
    mean_time = start + dt.timedelta(seconds=4.2)
    zenith, azimuth = mean_sun_angles(record)
    other.update(
        {
            "UTM_zone_identification": (
                f"{parts['platform']}_OPER_MSI_L2A_TL_2BPS_{parts['processed']}"
                f"_A{record.absolute_orbit:06d}_{parts['tile']}_N{parts['version']}"
            ),
            "mean_sensing_time": timefmt.iso(mean_time),
            "mean_sun_zenith_angle_in_deg_for_all_bands_all_detectors": zenith,
            "mean_sun_azimuth_angle_in_deg_for_all_bands_all_detectors": azimuth,
        }
    )
    descriptions = other.get("band_description", {})
    for band, nanometres in wavelengths.items():
        for key in (band, band[1:].upper()):
            if key in descriptions:
                descriptions[key]["central_wavelength"] = nanometres


# --------------------------------------------------------------------------
# Sentinel-1 L2 OCN


def _build_ocn(record: ProductRecord) -> dict[str, Any]:
    assert record.component_group is not None and record.swath_shape is not None
    doc = load_template("S01SIWOCN")
    start = timefmt.parse(record.start_datetime)
    absolute, datatake = record.id.split("_")[-3:-1]
    platform = platform_code(record.platform)
    replacements = [
        (_OCN_TEMPLATE_GROUP, record.component_group),
        ("0738CE", datatake),
        ("058399", absolute),
        ("S1A_", f"{platform}_"),
    ]
    meta = rewrite_strings(doc["metadata"], replacements, _OCN_TEMPLATE_START, start)

    azimuth, range_ = record.swath_shape
    for path in array_paths(meta):
        if path.startswith("owi/"):
            set_shape(meta, path, {"azimuth": azimuth, "range": range_})

    bbox, geometry = footprint(record)
    end = timefmt.parse(record.end_datetime)
    for key, attrs in meta.items():
        if not key.endswith(".zattrs") or "stac_discovery" not in attrs:
            continue
        stac = attrs["stac_discovery"]
        if "bbox" in stac:
            stac["bbox"] = bbox
            stac["geometry"] = geometry
        props = stac.get("properties", {})
        if "start_datetime" in props:
            props.update(
                {
                    "start_datetime": timefmt.iso(start),
                    "end_datetime": timefmt.iso(end),
                    "created": timefmt.iso(end + dt.timedelta(hours=2)),
                    "platform": record.platform,
                    "eopf:datatake_id": str(int(datatake, 16)),
                    "sat:absolute_orbit": record.absolute_orbit,
                    "sat:relative_orbit": record.relative_orbit,
                    "sat:orbit_state": "ascending",
                }
            )
    return {"metadata": meta, "zarr_consolidated_format": doc["zarr_consolidated_format"]}


# --------------------------------------------------------------------------
# Sentinel-3 OLCI L2 LFR


_LFR_NAME = re.compile(r"\d{8}T\d{6}_\d{8}T\d{6}_(\d{8}T\d{6})_(\d{4})_(\d{3})_(\d{3})_(\d{4})")


def _build_lfr(record: ProductRecord) -> dict[str, Any]:
    assert record.swath_shape is not None
    doc = load_template("S03OLCLFR")
    start = timefmt.parse(record.start_datetime)
    platform = platform_code(record.platform)
    replacements = [(_LFR_TEMPLATE_ID, record.id), ("S3B_", f"{platform}_")]
    meta = rewrite_strings(doc["metadata"], replacements, _LFR_TEMPLATE_START, start)

    cpm_v256 = not cpm_versions.at_least(record, "cpm_v262")
    # Later versions hold 46 arrays (templates/README.md): the replica serves the 38 it
    # generates for every version, and keeps the template's integer types from 2.6.2 on.
    for path in LFR_ARRAYS_NOT_IN_CPM_V256:
        del meta[f"{path}/.zarray"], meta[f"{path}/.zattrs"]
    if cpm_v256:
        for path, fill in LFR_FLOAT_IN_CPM_V256.items():
            meta[f"{path}/.zarray"].update({"dtype": "<f4", "fill_value": fill})
    cpm_versions.lfr_encodings(record, meta)
    rows, columns = record.swath_shape
    for path in array_paths(meta):
        set_shape(meta, path, {"rows": rows, "columns": columns, "tp_rows": rows})
        attrs = meta[f"{path}/.zattrs"]
        name = path.rsplit("/", 1)[-1]
        if cpm_v256 and name in ("latitude", "longitude") and "scale_factor" in attrs:
            # Stored as degrees (float64) in cpm_v256; a leftover integer scale
            # factor would make xarray divide the degrees by a million.
            scale = attrs.pop("scale_factor")
            for bound in ("valid_min", "valid_max"):
                if bound in attrs:
                    attrs[bound] = attrs[bound] * scale

    bbox, geometry = footprint(record)
    end = timefmt.parse(record.end_datetime)
    name = _LFR_NAME.search(record.id)
    assert name is not None, record.id
    processed, duration, cycle, relative, frame = name.groups()
    root = meta[".zattrs"]
    stac = root["stac_discovery"]
    stac.update({"id": record.id, "bbox": bbox, "geometry": geometry})
    stac["properties"].update(
        {
            "start_datetime": timefmt.iso(start),
            "end_datetime": timefmt.iso(end),
            "created": timefmt.iso(
                dt.datetime.strptime(processed, "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
            ),
            "platform": record.platform,
            "sat:absolute_orbit": record.absolute_orbit,
            "sat:relative_orbit": record.relative_orbit,
            "sat:orbit_state": "descending",
            "sat:platform_international_designator": INTERNATIONAL_DESIGNATORS[record.platform],
            "proj:shape": [rows, columns],
        }
    )
    root["other_metadata"].update(
        {
            "cycle_number": int(cycle),
            # The template states passes as twice the orbit numbers (248 -> 496).
            "relative_pass_number": int(relative) * 2,
            "absolute_pass_number": (record.absolute_orbit or 0) * 2,
        }
    )
    root["other_metadata"]["product_unit"].update(
        {"alongtrack_coordinate": int(frame), "duration": int(duration)}
    )
    return {"metadata": meta, "zarr_consolidated_format": doc["zarr_consolidated_format"]}


def dump_document(document: dict[str, Any]) -> bytes:
    """A Zarr v2 metadata document as the bytes the live EOPF stores hold.

    Why not zarr's own writer: the live ``cpm_v256`` stores were written by zarr-python 2,
    whose JSON is indented by 4, sorted by key and ASCII-only (the templates are verbatim
    copies and match this byte for byte); zarr-python 3 writes Zarr v2 metadata indented by 2
    in insertion order. Serving the live bytes keeps request sizes, and anything a reader
    compares with the live service, identical.
    """
    text = json.dumps(document, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": "))
    return text.encode("ascii")


def copy_zmetadata(zmetadata: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so callers can never change a memoised store's metadata."""
    return copy.deepcopy(zmetadata)
