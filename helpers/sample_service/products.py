"""The Zarr metadata of every product: real EOPF templates, adapted to each record.

Why this module exists: the book teaches how a real EOPF product is laid out, so the sample
stores must not invent structure. Every type starts from the verbatim ``.zmetadata`` of a real
product (``templates/``, sources in ``templates/README.md``) and is adapted by the one
data-driven builder (`products_generic`, ``templates/product_types.json``, which also holds the
per-platform and per-CPM-version edits); the tutorial's three types add here the few rules that
compute values, to match the facts its printed outputs fix.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import products_generic, timefmt
from .catalog import ProductRecord, footprint
from .products_generic import array_paths, load_template

__all__ = ["ArraySpec", "array_specs", "build_zmetadata", "dump_document", "load_template"]

TEMPLATE_DIR = products_generic.TEMPLATE_DIR
TEMPLATE_FILES = {
    kind: entry["template"] for kind, entry in products_generic.type_entries().items()
}
PRODUCT_TYPES = tuple(TEMPLATE_FILES)


@dataclass(frozen=True)
class ArraySpec:
    """One array of a store, with its metadata decoded for generating chunks."""

    path: str
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    compressor: dict[str, Any] | None
    dims: tuple[str, ...]
    attrs: dict[str, Any]

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        """Number of chunks along each dimension."""
        return tuple(-(-size // chunk) for size, chunk in zip(self.shape, self.chunks, strict=True))

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def array_specs(zmetadata: dict[str, Any]) -> dict[str, ArraySpec]:
    """Every array of a consolidated metadata document, by path."""
    meta = zmetadata["metadata"]
    specs: dict[str, ArraySpec] = {}
    for path in array_paths(meta):
        zarray, attrs = meta[f"{path}/.zarray"], meta.get(f"{path}/.zattrs", {})
        dtype = np.dtype(zarray["dtype"])
        fill = zarray["fill_value"]  # zarr v2 writes NaN as the string "NaN"
        specs[path] = ArraySpec(
            path=path,
            shape=tuple(zarray["shape"]),
            chunks=tuple(zarray["chunks"]),
            dtype=dtype,
            fill_value=float(fill) if isinstance(fill, str) and dtype.kind == "f" else fill,
            compressor=zarray["compressor"],
            dims=tuple(attrs.get("_ARRAY_DIMENSIONS", [])),
            attrs=attrs,
        )
    return specs


def build_zmetadata(record: ProductRecord) -> dict[str, Any]:
    """The consolidated ``.zmetadata`` document of ``record``'s store."""
    rules = {"S02MSIL2A": _s2_rules, "S01SIWOCN": _ocn_rules, "S03OLCLFR": _lfr_rules}
    return products_generic.build_zmetadata(record, rules.get(record.product_type))


def dump_document(document: dict[str, Any]) -> bytes:
    """A Zarr v2 metadata document as the bytes the live EOPF stores hold.

    Why not zarr's own writer: the live stores were written by zarr-python 2 (JSON indented by
    4, sorted keys, ASCII; the templates match this byte for byte), zarr-python 3 indents by 2
    in insertion order. The live bytes keep request sizes as a reader meets them live.
    """
    text = json.dumps(document, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": "))
    return text.encode("ascii")


def meteo_grid(record: ProductRecord) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes (north to south) and longitudes of the 9 x 9 CAMS/ECMWF grid over a tile."""
    west, south, east, north = footprint(record)[0][:4]
    return np.round(np.linspace(north, south, 9), 3), np.round(np.linspace(west, east, 9), 3)


def _s2_rules(meta: dict[str, Any], record: ProductRecord, fields: dict[str, Any]) -> None:
    """The meteorology grid over the tile, the processing time of the name, the mean sensing."""
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
    props = meta[".zattrs"]["stac_discovery"]["properties"]
    props["created"] = timefmt.parse_compact(fields["processed"]).isoformat()
    mean_sensing = timefmt.iso(fields["start"] + dt.timedelta(seconds=4.2))
    meta[".zattrs"]["other_metadata"]["mean_sensing_time"] = mean_sensing


def _ocn_rules(meta: dict[str, Any], record: ProductRecord, fields: dict[str, Any]) -> None:
    """The name writes the datatake in hexadecimal, the embedded STAC in decimal."""
    datatake = str(int(fields["datatake"], 16))
    meta[".zattrs"]["stac_discovery"]["properties"]["eopf:datatake_id"] = datatake


def _lfr_rules(meta: dict[str, Any], record: ProductRecord, fields: dict[str, Any]) -> None:
    """The swath size and the orbit, cycle and frame numbers of the name."""
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
