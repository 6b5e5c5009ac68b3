"""Zarr v3 (CPM 3.0) Sentinel-2 L2A stores of the staging collection, written by zarr itself.

The live v3 stores (September 2026, and the EOPF-Explorer GeoZarr example: ``templates/README.md``,
"Zarr v3") differ from v2 in all a reader meets: ``zarr.json`` documents (the root one
consolidated), one shard per band level read by byte ranges, six levels ``r10m`` to ``r720m``
described by ``multiscales``, and the CRS inside the store (``spatial_ref`` per level,
``grid_mapping`` on every band). The hierarchy is made with zarr's API in a `MemoryStore`, so
the documents served are the bytes zarr wrote.

A shard (38 kB at r720m to about 121 MB at r10m) can only be written whole, so the first request
for any level of a band makes the band's native array once (from the v2 store's scene, chunk by
chunk), derives every level by block means, has zarr's ShardingCodec encode each shard and keeps
it in the `VerifiedCache`; later requests read ranges straight from the cached file.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from pyproj import CRS
from zarr.codecs import BloscCodec
from zarr.core.buffer import Buffer, cpu
from zarr.storage import MemoryStore

from . import products, scenes, zarr3_catalog
from .cache import StoredFile, VerifiedCache, default_cache_root, one_per_key
from .catalog import S2_TILE_SIZE_M, ProductRecord, get_product, utm_bounds
from .http_ranges import Blob, BytesBlob
from .zarr_store import generator_version

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
_GROUPS = Path(__file__).parent / "templates" / "zarr3" / "S02MSIL2A.groups.json"
_V2_ONLY_ATTRS = ("_ARRAY_DIMENSIONS", "_eopf_attrs", *("proj:epsg", "proj:bbox", "proj:shape"))
_V2_ONLY_ATTRS += ("proj:transform", "proj:wkt2", "coordinates")
_SHARD = "/c/0/0"
"""The key of the one shard of every band level, below the array's path."""


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
    total = blocks.sum(axis=(1, 3), dtype=np.float64)
    count = (blocks != 0).sum(axis=(1, 3))
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return np.rint(mean).astype(values.dtype)


def encode_shard(array_document: bytes, values: np.ndarray) -> bytes:
    """The shard zarr's ShardingCodec writes for ``values`` under ``array_document``.

    The array is opened from its own ``zarr.json`` in an empty MemoryStore and written whole,
    so index, checksums and inner-chunk encoding are zarr's, not ours.
    """
    written: dict[str, Buffer] = {"zarr.json": cpu.Buffer.from_bytes(array_document)}
    zarr.open_array(MemoryStore(written), zarr_format=3, mode="r+")[...] = values
    return written[_SHARD[1:]].to_bytes()


class Zarr3Store:
    """The read-only Zarr v3 store of one staging product: documents in memory, shards cached."""

    def __init__(self, record: ProductRecord, cache: VerifiedCache) -> None:
        self.record = record
        self._cache = cache
        self._version = generator_version(record)
        original = get_product(record.id)
        assert original is not None and record.epsg is not None
        self._original = original
        zmetadata = products.build_zmetadata(original)
        self._specs = products.array_specs(zmetadata)
        self.shards: dict[str, tuple[str, int]] = {}
        """By shard key: the v2 array (native resolution) it is made from, and the edge of the
        blocks averaged (1: as it is)."""
        self.documents = self._write_documents(zmetadata["metadata"][".zattrs"])
        self._source_lock = one_per_key(lambda source: threading.Lock())

    def get(self, key: str) -> Blob | None:
        """The object stored under ``key`` (relative to the store root), or None."""
        document = self.documents.get(key)
        if document is not None:
            return BytesBlob(document)
        return self.shard(key) if key in self.shards else None

    def shard(self, key: str) -> StoredFile:
        """The cached shard ``key``; building it builds every level of the same band."""
        stored = self._cache.find_file(*self._slot(key))
        return stored or self._build_band(self.shards[key][0])[key]

    def _build_band(self, source: str) -> dict[str, StoredFile]:
        """Every level's shard made from the v2 array ``source`` (the missing ones built)."""
        with self._source_lock(source):
            native = functools.cache(lambda: self._native(source))
            found = {}
            for key, (made_from, factor) in self.shards.items():
                if made_from != source:
                    continue
                document = self.documents[key.removesuffix(_SHARD) + "/zarr.json"]

                def build(path: Path, document: bytes = document, factor: int = factor) -> None:
                    path.write_bytes(encode_shard(document, block_mean(native(), factor)))

                what = f"Zarr v3 shard {key}"
                found[key] = self._cache.get_or_create_file(*self._slot(key), build, what)
            return found

    def _slot(self, key: str) -> tuple[str, str]:
        name = key.replace("/", "_")
        return f"zarr3/{self.record.id}/{name}", f"{self._version}/{self.record.id}/{key}"

    def _native(self, source: str) -> np.ndarray:
        """The whole v2 array ``source`` (native resolution), assembled from its v2 chunks."""
        spec = self._specs[source]
        out = np.empty(spec.shape, dtype=spec.dtype)
        for index in itertools.product(*(range(n) for n in spec.chunk_grid)):
            out[scenes.chunk_region(spec, index)] = scenes.chunk_values(self._original, spec, index)
        return out

    def _write_documents(self, v2_root_attrs: dict[str, Any]) -> dict[str, bytes]:
        """Every document of the store, as zarr writes them; fills `shards` on the way."""
        record, epsg = self.record, self.record.epsg
        root_attrs = copy.deepcopy(v2_root_attrs)
        root_attrs["stac_discovery"]["properties"]["processing:software"] = {"EOPF_CPM": "3.0.0"}
        written: dict[str, Buffer] = {}
        store = MemoryStore(written)
        root = zarr.open_group(store, mode="w", zarr_format=3, attributes=root_attrs)
        template = json.loads(_GROUPS.read_text(encoding="utf-8"))
        xmin, ymin, xmax, ymax = utm_bounds(record)
        geo = {"proj:code": f"EPSG:{epsg}", "spatial:bbox": [xmin, ymin, xmax, ymax]}
        crs = CRS.from_epsg(epsg)
        crs_attrs = {**crs.to_cf(), "spatial_ref": crs.to_wkt("WKT1_GDAL")}

        def add_level(group: zarr.Group, resolution: int) -> tuple[zarr.Group, int]:
            """A level group with its spatial_ref and x/y coordinates, and its size."""
            size = S2_TILE_SIZE_M // resolution  # r720m: 152, partial block dropped
            level = group.create_group(f"r{resolution}m", attributes={**template["level"], **geo})
            level.attrs["spatial:shape"] = [size, size]
            level.create_array(
                "spatial_ref", shape=(), dtype="int64", fill_value=0, compressors=None,
                attributes=crs_attrs,
            )[()] = 0  # fmt: skip
            centres = (np.arange(size, dtype=np.float64) + 0.5) * resolution
            for name, values in (("x", xmin + centres), ("y", ymax - centres)):
                level.create_array(
                    name, shape=(size,), dtype="float64", chunks=(size,), fill_value=np.nan,
                    compressors=None, dimension_names=[name],
                    attributes={"units": "m", "long_name": f"{name} coordinate"},
                )[:] = values  # fmt: skip
            return level, size

        def add_band(level: zarr.Group, name: str, size: int, source: str, factor: int) -> None:
            spec, edge = self._specs[source], -(-size // INNER_CHUNK) * INNER_CHUNK
            attrs = {k: v for k, v in spec.attrs.items() if k not in _V2_ONLY_ATTRS}
            level.create_array(
                name, shape=(size, size), dtype=spec.dtype, chunks=(INNER_CHUNK, INNER_CHUNK),
                shards=(edge, edge), compressors=_COMPRESSOR, fill_value=0,
                dimension_names=["y", "x"], attributes={**attrs, "grid_mapping": "spatial_ref"},
            )  # fmt: skip
            self.shards[f"{level.path}/{name}{_SHARD}"] = (source, factor)

        bands: dict[int, list[str]] = {}  # v2 resolution -> its reflectance bands
        for path in sorted(self._specs):
            parts = path.split("/")
            if path.startswith(REFLECTANCE + "/") and len(parts) == 4 and parts[3] not in "xy":
                bands.setdefault(int(parts[2][1:-1]), []).append(parts[3])
        native = {name: res for res in sorted(bands, reverse=True) for name in bands[res]}
        reflectance = root.create_group(REFLECTANCE, attributes={**template["reflectance"], **geo})
        for resolution in LEVELS:
            level, size = add_level(reflectance, resolution)
            for name in bands[min(resolution, 60)]:
                base = native[name]
                source = f"{REFLECTANCE}/r{base}m/{name}"
                add_band(level, name, size, source, resolution // base)
        for group_path, resolutions in NATIVE_GROUPS:
            group = root.create_group(group_path)
            for resolution in resolutions:
                level, size = add_level(group, resolution)
                prefix = f"{group_path}/r{resolution}m/"
                for path in sorted(p for p in self._specs if p.startswith(prefix)):
                    if path.rsplit("/", 1)[-1] not in ("x", "y"):
                        add_band(level, path.rsplit("/", 1)[-1], size, path, 1)
        with warnings.catch_warnings():  # consolidated v3 metadata: not in the spec, but live
            warnings.simplefilter("ignore", UserWarning)
            zarr.consolidate_metadata(store)
        return {key: buffer.to_bytes() for key, buffer in written.items()}


@one_per_key
def open_zarr3_store(product_id: str) -> Zarr3Store | None:
    """The v3 store of ``product_id`` (made once), or None when it has no staging copy."""
    record = zarr3_catalog.zarr3_record(product_id) if isinstance(product_id, str) else None
    return None if record is None else Zarr3Store(record, VerifiedCache(default_cache_root()))
