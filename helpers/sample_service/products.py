"""The Zarr metadata of every product: real EOPF templates, adapted to each record.

Why this module exists: the book teaches how a real EOPF product is laid out, so the sample
stores must not invent structure. Every type starts from the verbatim ``.zmetadata`` of a real
product (``templates/``, sources in ``templates/README.md``) and is adapted by the one
data-driven builder (`products_generic`, ``templates/product_types.json``); the tutorial's three
types add here the few rules data cannot state, to match the facts its printed outputs fix.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

import numpy as np

from . import cpm_versions, products_generic, timefmt
from .catalog import ProductRecord, footprint
from .products_generic import load_template, type_entries
from .zmeta import ArraySpec, array_paths, array_specs

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

TEMPLATE_DIR = products_generic.TEMPLATE_DIR
TEMPLATE_FILES = {kind: entry["template"] for kind, entry in type_entries().items()}
PRODUCT_TYPES = tuple(TEMPLATE_FILES)

# Central wavelengths printed by the tutorial for its S2B product (N0511):
# "BOA reflectance ... b02 492.3 nm" etc. The S2A template states the S2A
# values (492.7, 559.8, 664.6, 832.8 nm), which are the published S2A band
# centres; the difference follows the platform, not the baseline, so S2A
# products keep the template's values (the STAC items of the service do too).
S2B_CENTRAL_WAVELENGTHS = {"b02": 492.3, "b03": 559.0, "b04": 665.0, "b08": 833.0}

# The tutorial's LFR product (cpm_v256) prints these two as float32 (the template stores
# integers); the integer fill value is kept as a float, as the template does for gifapar.
LFR_FLOAT_IN_CPM_V256 = {
    "conditions/image/detector_index": -1.0,
    "conditions/image/frame_offset": -128.0,
}


def build_zmetadata(record: ProductRecord) -> dict[str, Any]:
    """The consolidated ``.zmetadata`` document of ``record``'s store."""
    rules = {"S02MSIL2A": _s2_rules, "S01SIWOCN": _ocn_rules, "S03OLCLFR": _lfr_rules}
    return products_generic.build_zmetadata(record, rules.get(record.product_type))


# --------------------------------------------------------------------------
# Sentinel-2 L2A


def s2_wavelengths(record: ProductRecord) -> dict[str, float]:
    """Central wavelengths (nm) that differ from the S2A template for this platform."""
    return dict(S2B_CENTRAL_WAVELENGTHS) if record.platform == "sentinel-2b" else {}


def meteo_grid(record: ProductRecord) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes (north to south) and longitudes of the 9 x 9 CAMS/ECMWF grid over a tile."""
    west, south, east, north = footprint(record)[0][:4]
    lats = np.round(np.linspace(north, south, 9), 3)
    lons = np.round(np.linspace(west, east, 9), 3)
    return lats, lons


def _s2_rules(meta: dict[str, Any], record: ProductRecord, fields: dict[str, Any]) -> None:
    """Band centres by platform, the meteorology grid over the tile, times, the CPM version."""
    start = timefmt.parse(record.start_datetime)
    wavelengths = s2_wavelengths(record)
    for path in array_paths(meta):
        band = path.rsplit("/", 1)[-1]
        if path.startswith("measurements/reflectance/") and band in wavelengths:
            attrs = meta[f"{path}/.zattrs"]
            for holder in (attrs, attrs.get("_eopf_attrs", {})):
                if "long_name" in holder:
                    nanometres = f"{wavelengths[band]:.1f} nm"
                    holder["long_name"] = re.sub(r"[\d.]+ nm$", nanometres, holder["long_name"])
    _s2_meteorology(meta, record, start)

    stac = meta[".zattrs"]["stac_discovery"]
    props = stac["properties"]
    props["datetime"] = timefmt.iso(start, zulu=False)
    props["created"] = timefmt.parse_compact(fields["processed"]).isoformat()
    for band in props.get("bands", []):
        if band["name"] in wavelengths:
            band["center_wavelength"] = wavelengths[band["name"]]
    for band in stac["assets"].get("analytic", {}).get("eo:bands", []):
        if f"b{band['name'].lower()}" in wavelengths:
            band["center_wavelength"] = wavelengths[f"b{band['name'].lower()}"] / 1000
    other = meta[".zattrs"]["other_metadata"]
    other["mean_sensing_time"] = timefmt.iso(start + dt.timedelta(seconds=4.2))
    descriptions = other.get("band_description", {})
    for band, nanometres in wavelengths.items():
        for key in (band, band[1:].upper()):
            if key in descriptions:
                descriptions[key]["central_wavelength"] = nanometres
    cpm_versions.adapt_s2_metadata(record, meta)


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
    for path in array_paths(meta):
        attrs = meta[f"{path}/.zattrs"]
        if path.startswith("conditions/meteorology/") and "GRIB_Nx" in attrs:
            attrs.update(grid_attrs)
    for source in ("cams", "ecmwf"):
        group = f"conditions/meteorology/{source}"
        meta[f"{group}/time/.zattrs"]["units"] = f"days since {start:%Y-%m-%d} 00:00:00"
        meta[f"{group}/valid_time/.zattrs"]["units"] = f"days since {start:%Y-%m-%d %H:%M}:00"


# --------------------------------------------------------------------------
# Sentinel-1 L2 OCN and Sentinel-3 OLCI L2 LFR


def _ocn_rules(meta: dict[str, Any], record: ProductRecord, fields: dict[str, Any]) -> None:
    """The name writes the datatake in hexadecimal, the embedded STAC in decimal."""
    meta[".zattrs"]["stac_discovery"]["properties"]["eopf:datatake_id"] = str(
        int(fields["datatake"], 16)
    )


def _lfr_rules(meta: dict[str, Any], record: ProductRecord, fields: dict[str, Any]) -> None:
    """cpm_v256's float types and degrees (later: integer encodings), the name's numbers."""
    if not cpm_versions.at_least(record, "cpm_v262"):
        for path, fill in LFR_FLOAT_IN_CPM_V256.items():
            meta[f"{path}/.zarray"].update({"dtype": "<f4", "fill_value": fill})
        for path in array_paths(meta):
            attrs = meta[f"{path}/.zattrs"]
            if path.endswith(("/latitude", "/longitude")) and "scale_factor" in attrs:
                # Stored as degrees (float64) in cpm_v256; a leftover integer scale
                # factor would make xarray divide the degrees by a million.
                scale = attrs.pop("scale_factor")
                for bound in ("valid_min", "valid_max"):
                    if bound in attrs:
                        attrs[bound] = attrs[bound] * scale
    cpm_versions.lfr_encodings(record, meta)
    assert record.swath_shape is not None
    root = meta[".zattrs"]
    root["stac_discovery"]["properties"]["proj:shape"] = list(record.swath_shape)
    root["other_metadata"].update(
        {
            "cycle_number": int(fields["cycle"]),
            # The template states passes as twice the orbit numbers (248 -> 496).
            "relative_pass_number": int(fields["relative"]) * 2,
            "absolute_pass_number": (record.absolute_orbit or 0) * 2,
        }
    )
    root["other_metadata"]["product_unit"].update(
        {"alongtrack_coordinate": int(fields["frame"]), "duration": int(fields["duration"])}
    )


def dump_document(document: dict[str, Any]) -> bytes:
    """A Zarr v2 metadata document as the bytes the live EOPF stores hold.

    Why not zarr's own writer: the live stores were written by zarr-python 2 (JSON indented by
    4, sorted keys, ASCII; the templates match this byte for byte), zarr-python 3 indents by 2
    in insertion order. The live bytes keep request sizes as a reader meets them live.
    """
    text = json.dumps(document, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": "))
    return text.encode("ascii")


def copy_zmetadata(zmetadata: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so callers can never change a memoised store's metadata."""
    return copy.deepcopy(zmetadata)
