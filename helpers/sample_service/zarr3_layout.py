"""The structure of a Zarr v3 (CPM 3.0) Sentinel-2 L2A store, written by zarr-python itself.

The live v3 stores (September 2026, and the EOPF-Explorer GeoZarr example: ``templates/README.md``,
"Zarr v3") differ from v2 in all a reader meets: ``zarr.json`` documents (the root one
consolidated), one shard per band level read by byte ranges, six levels ``r10m`` to ``r720m``
described by ``multiscales``, and the CRS inside the store (``spatial_ref`` per level,
``grid_mapping`` on every band). The hierarchy is made with zarr's API in a `MemoryStore`, so
the documents served are the bytes zarr wrote; bands get no data here (`zarr3_store`).
"""

from __future__ import annotations

import copy
import functools
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from pyproj import CRS
from zarr.codecs import BloscCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.storage import MemoryStore

from . import catalog, products
from .catalog import S2_TILE_SIZE_M, ProductRecord, utm_bounds

LEVELS = (10, 20, 60, 120, 360, 720)
"""Metres per pixel of the six reflectance levels (r10m ... r720m)."""
INNER_CHUNK = 1024
"""Inner chunk edge of every shard, as measured on the live stores."""
REFLECTANCE = "measurements/reflectance"
NATIVE_GROUPS = (
    ("quality/atmosphere", (10, 20, 60)),
    ("conditions/mask/l2a_classification", (20, 60)),
)
"""Groups the items point at besides reflectance (ATM_*, SCL_*): native levels only."""
_COMPRESSOR = BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")
_GROUP_TEMPLATE = Path(__file__).parent / "templates" / "zarr3" / "S02MSIL2A.groups.json"
_V2_ONLY_ATTRS = ("_ARRAY_DIMENSIONS", "_eopf_attrs", *("proj:epsg", "proj:bbox", "proj:shape"))
_V2_ONLY_ATTRS += ("proj:transform", "proj:wkt2", "coordinates")


@dataclass(frozen=True)
class ShardPlan:
    """One shard: the v2 array ``source`` (native resolution), averaged over blocks of
    ``factor`` x ``factor`` pixels (1: as it is), fills the array ``path``."""

    path: str
    shape: tuple[int, int]
    source: str
    factor: int


@dataclass(frozen=True)
class Layout:
    """Every document and small chunk of a store (bytes by key), and the band shards' plans."""

    documents: dict[str, bytes]
    shards: dict[str, ShardPlan]
    """By shard key, e.g. ``measurements/reflectance/r720m/b04/c/0/0``."""


def level_name(resolution: int) -> str:
    return f"r{resolution}m"


def shard_edge(size: int) -> int:
    """The shard edge holding a whole level: ``size`` rounded up to whole inner chunks."""
    return -(-size // INNER_CHUNK) * INNER_CHUNK


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """Mean of each ``factor`` x ``factor`` block of valid (non-zero) counts, rounded; 0 if none.

    Partial blocks at the far edges are dropped (10980 / 72 gives 152 rows, as the live r720m).
    A hand-written reshape: the mean must skip the no-data value 0 of the uint16 counts, which
    neither ``xarray.coarsen`` (float NaN) nor scipy's zoom does for integers without a copy.
    """
    if factor == 1:
        return values
    rows, cols = (n // factor for n in values.shape)
    blocks = values[: rows * factor, : cols * factor].reshape(rows, factor, cols, factor)
    valid = blocks != 0
    total = blocks.sum(axis=(1, 3), dtype=np.float64)
    count = valid.sum(axis=(1, 3))
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return np.rint(mean).astype(values.dtype)


@functools.cache
def _group_template() -> dict[str, Any]:
    with _GROUP_TEMPLATE.open(encoding="utf-8") as f:
        return json.load(f)


def _native_levels(specs: dict[str, products.ArraySpec]) -> dict[int, list[str]]:
    """Band names per v2 reflectance level (10, 20, 60)."""
    found: dict[int, list[str]] = {}
    for path in specs:
        parts = path.split("/")
        if path.startswith(REFLECTANCE + "/") and len(parts) == 4 and parts[3] not in "xy":
            found.setdefault(int(parts[2][1:-1]), []).append(parts[3])
    return {res: sorted(names) for res, names in found.items()}


def _band_attrs(spec: products.ArraySpec) -> dict[str, Any]:
    attrs = {k: v for k, v in spec.attrs.items() if k not in _V2_ONLY_ATTRS}
    return {**attrs, "grid_mapping": "spatial_ref"}


def _crs_attrs(epsg: int) -> dict[str, Any]:
    """CF grid-mapping attributes of ``epsg`` (pyproj), with ``crs_wkt`` and GDAL's spatial_ref."""
    crs = CRS.from_epsg(epsg)
    attrs = dict(crs.to_cf())
    attrs["spatial_ref"] = crs.to_wkt("WKT1_GDAL")
    return attrs


def _add_level(
    group: zarr.Group, record: ProductRecord, resolution: int, group_attrs: dict[str, Any]
) -> tuple[zarr.Group, int]:
    """A level group with its spatial_ref and x/y coordinates, and its size in pixels."""
    size = S2_TILE_SIZE_M // resolution  # r720m: 152, the partial block dropped (block_mean)
    xmin, _, _, ymax = utm_bounds(record)
    level = group.create_group(level_name(resolution), attributes=group_attrs)
    level.attrs["spatial:shape"] = [size, size]
    assert record.epsg is not None
    ref = level.create_array(
        "spatial_ref",
        shape=(),
        dtype="int64",
        fill_value=0,
        compressors=None,
        attributes=_crs_attrs(record.epsg),
    )
    ref[()] = 0
    centres = (np.arange(size, dtype=np.float64) + 0.5) * resolution
    for name, values in (("x", xmin + centres), ("y", ymax - centres)):
        axis = level.create_array(
            name,
            shape=(size,),
            dtype="float64",
            chunks=(size,),
            fill_value=np.nan,
            compressors=None,
            dimension_names=[name],
            attributes={"units": "m", "long_name": f"{name} coordinate"},
        )
        axis[:] = values
    return level, size


def build_layout(record: ProductRecord) -> Layout:
    """The documents and shard plans of the v3 store of ``record`` (a `zarr3_catalog` copy)."""
    original = catalog.get_product(record.id)
    assert original is not None and record.epsg is not None
    zmeta = products.build_zmetadata(original)
    specs = products.array_specs(zmeta)
    root_attrs = copy.deepcopy(zmeta["metadata"][".zattrs"])
    root_attrs["stac_discovery"]["properties"]["processing:software"] = {"EOPF_CPM": "3.0.0"}
    store = MemoryStore()
    root = zarr.open_group(store, mode="w", zarr_format=3, attributes=root_attrs)
    template = _group_template()
    xmin, ymin, xmax, ymax = utm_bounds(record)
    geo = {"proj:code": f"EPSG:{record.epsg}", "spatial:bbox": [xmin, ymin, xmax, ymax]}
    shards: dict[str, ShardPlan] = {}

    def add_band(level: zarr.Group, path: str, size: int, source: str, factor: int) -> None:
        spec = specs[source]
        edge = shard_edge(size)
        level.create_array(
            path.rsplit("/", 1)[-1], shape=(size, size), dtype=spec.dtype,
            chunks=(INNER_CHUNK, INNER_CHUNK), shards=(edge, edge), compressors=_COMPRESSOR,
            fill_value=0, dimension_names=["y", "x"], attributes=_band_attrs(spec),
        )  # fmt: skip
        shards[f"{path}/c/0/0"] = ShardPlan(path, (size, size), source, factor)

    bands = _native_levels(specs)
    native = {name: res for res in sorted(bands, reverse=True) for name in bands[res]}
    reflectance = root.create_group(REFLECTANCE, attributes={**template["reflectance"], **geo})
    for resolution in LEVELS:
        listed = bands[min(resolution, 60)]
        level, size = _add_level(reflectance, record, resolution, {**template["level"], **geo})
        for name in listed:
            base = native[name]
            source = f"{REFLECTANCE}/{level_name(base)}/{name}"
            add_band(level, f"{REFLECTANCE}/{level_name(resolution)}/{name}", size,
                     source, resolution // base)  # fmt: skip
    for group_path, resolutions in NATIVE_GROUPS:
        group = root.create_group(group_path)
        for resolution in resolutions:
            level, size = _add_level(group, record, resolution, {**template["level"], **geo})
            prefix = f"{group_path}/{level_name(resolution)}/"
            for path in sorted(p for p in specs if p.startswith(prefix)):
                if path.rsplit("/", 1)[-1] not in ("x", "y"):
                    add_band(level, path, size, path, 1)
    with warnings.catch_warnings():  # consolidated v3 metadata: not in the spec, but live
        warnings.simplefilter("ignore", UserWarning)
        zarr.consolidate_metadata(store)
    return Layout(_store_bytes(store), shards)


def _store_bytes(store: MemoryStore) -> dict[str, bytes]:
    """Every key of a MemoryStore as bytes (zarr's own serialisation)."""
    # A private attribute read once: MemoryStore exposes keys only through async iterators.
    return {key: buffer.to_bytes() for key, buffer in store._store_dict.items()}


def encode_shard(array_document: bytes, values: np.ndarray) -> bytes:
    """The shard ``c/0/0`` zarr's ShardingCodec writes for ``values`` under ``array_document``.

    The array is opened from its own ``zarr.json`` in an empty MemoryStore and written whole,
    so index, checksums and inner-chunk encoding are zarr's, not ours.
    """
    prototype = default_buffer_prototype()
    store = MemoryStore({"zarr.json": prototype.buffer.from_bytes(array_document)})
    array = zarr.open_array(store, zarr_format=3, mode="r+")
    array[...] = values
    return _store_bytes(store)["c/0/0"]
