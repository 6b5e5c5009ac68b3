"""Zarr v3 stores of the staging collection: documents from memory, shards from the cache.

A shard (one per band level, 38 kB at r720m to about 121 MB at r10m) can only be written whole,
so the first request for any level of a band makes the band's native array once (from the v2
store's scene, chunk by chunk), derives every level by block means, encodes each shard with
zarr's ShardingCodec (`zarr3_layout.encode_shard`) and keeps it in the `VerifiedCache`; later
requests read ranges straight from the cached file.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import numpy as np

from . import products, scenes, zarr3_catalog
from .cache import StoredFile, VerifiedCache, default_cache_root, one_per_key
from .catalog import ProductRecord, get_product
from .http_ranges import Blob, BytesBlob
from .zarr3_layout import Layout, ShardPlan, block_mean, build_layout, encode_shard
from .zarr_store import generator_version


class Zarr3Store:
    """The read-only Zarr v3 store of one staging product."""

    def __init__(self, record: ProductRecord, cache: VerifiedCache) -> None:
        self.record = record
        self.layout: Layout = build_layout(record)
        self._cache = cache
        self._version = generator_version(record)
        original = get_product(record.id)
        assert original is not None
        self._original = original
        self._specs = products.array_specs(products.build_zmetadata(original))
        self._source_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> Blob | None:
        """The object stored under ``key`` (relative to the store root), or None."""
        document = self.layout.documents.get(key)
        if document is not None:
            return BytesBlob(document)
        return self.shard(key) if key in self.layout.shards else None

    def shard(self, key: str) -> StoredFile:
        """The cached shard ``key``; building it builds every level of the same band."""
        stored = self._cache.find_file(*self._slot(key))
        if stored is None:
            self._build_band(self.layout.shards[key].source)
            stored = self._cache.find_file(*self._slot(key))
        assert stored is not None
        return stored

    def _build_band(self, source: str) -> None:
        """Build the missing shards of every level made from the v2 array ``source``."""
        with self._guard:
            lock = self._source_locks.setdefault(source, threading.Lock())
        with lock:
            plans = {k: plan for k, plan in self.layout.shards.items() if plan.source == source}
            missing = [k for k in plans if self._cache.find_file(*self._slot(k)) is None]
            native = self._native(source) if missing else None
            for key in missing:
                plan = plans[key]

                def build(path: Path, plan: ShardPlan = plan) -> None:
                    values = block_mean(native, plan.factor)
                    assert values.shape == plan.shape, (plan.path, values.shape, plan.shape)
                    document = self.layout.documents[f"{plan.path}/zarr.json"]
                    path.write_bytes(encode_shard(document, values))

                self._cache.get_or_create_file(*self._slot(key), build, f"Zarr v3 shard {key}")

    def _slot(self, key: str) -> tuple[str, str]:
        name = key.replace("/", "_")
        return f"zarr3/{self.record.id}/{name}", f"{self._version}/{self.record.id}/{key}"

    def _native(self, source: str) -> np.ndarray:
        """The whole v2 array ``source`` (native resolution), assembled from its v2 chunks."""
        spec = self._specs[source]
        out = np.empty(spec.shape, dtype=spec.dtype)
        for index in itertools.product(*(range(n) for n in spec.chunk_grid)):
            region = scenes.chunk_region(spec, index)
            out[region] = scenes.chunk_values(self._original, spec, index)
        return out


@one_per_key
def open_zarr3_store(product_id: str) -> Zarr3Store | None:
    """The v3 store of ``product_id`` (made once), or None when it has no staging copy."""
    record = zarr3_catalog.zarr3_record(product_id) if isinstance(product_id, str) else None
    return None if record is None else Zarr3Store(record, VerifiedCache(default_cache_root()))
