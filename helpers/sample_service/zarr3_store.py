"""Zarr v3 stores of the staging collection: documents from memory, shards from the cache.

Why this module exists: a sharded store is read as ranges of a few large objects (one shard per
band level, 38 kB at r720m to about 150 MB at r10m). A shard can only be written whole, so the
first request for any level of a band makes the band's native array once (from the same scene
as the v2 store, chunk by chunk), derives every level of that band by block means, encodes each
shard with zarr's ShardingCodec (`zarr3_layout.encode_shard`) and keeps it in the
integrity-checked `VerifiedCache`; later requests read ranges straight from the cached file.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from . import products, scenes, zarr3_catalog
from .cache import StoredFile, VerifiedCache, content_digest, default_cache_root
from .catalog import ProductRecord, get_product
from .http_ranges import Blob, BytesBlob
from .zarr3_layout import Layout, ShardPlan, block_mean, build_layout, encode_shard


@dataclass(frozen=True)
class FileBlob:
    """A verified cache entry served by ranges: only the bytes asked for are read."""

    stored: StoredFile

    @property
    def size(self) -> int:
        return self.stored.size

    def read(self, start: int, stop: int) -> bytes:
        with self.stored.path.open("rb") as handle:
            handle.seek(self.stored.offset + start)
            return handle.read(stop - start)


def _generator_version(record: ProductRecord) -> str:
    """A digest of everything that decides the shards' bytes (part of every cache key)."""
    return content_digest(
        (
            "catalog.py",
            "cpm_versions.py",
            "products.py",
            "zarr3_layout.py",
            "zarr3_store.py",
            "solar.py",
            "timefmt.py",
        ),
        ("scenes/*.py", "templates/*.json", "templates/zarr3/*.json"),
        repr(record),
        np.__version__,
        zarr.__version__,  # the codec implementation decides the bytes too
    )


class Zarr3Store:
    """The read-only Zarr v3 store of one staging product."""

    def __init__(self, record: ProductRecord, cache: VerifiedCache) -> None:
        self.record = record
        self.layout: Layout = build_layout(record)
        self._cache = cache
        self._version = _generator_version(record)
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
        plan = self.layout.shards.get(key)
        if plan is None:
            return None
        return FileBlob(self.shard(key))

    def shard(self, key: str) -> StoredFile:
        """The cached shard ``key``; building it builds every level of the same band."""
        plan = self.layout.shards[key]
        stored = self._cached(key)
        if stored is not None:
            return stored
        with self._lock_for(plan.source):
            siblings = [k for k, p in self.layout.shards.items() if p.source == plan.source]
            missing = [k for k in siblings if self._cached(k) is None]
            if missing:
                native = self._native(plan.source)
                for sibling in missing:
                    sibling_plan = self.layout.shards[sibling]
                    self._store(sibling, lambda p=sibling_plan: self._encode(p, native))
        stored = self._cached(key)
        assert stored is not None
        return stored

    def _slot(self, key: str) -> tuple[str, str]:
        name = key.replace("/", "_")
        return f"zarr3/{self.record.id}/{name}", f"{self._version}/{self.record.id}/{key}"

    def _cached(self, key: str) -> StoredFile | None:
        return self._cache.find_file(*self._slot(key))

    def _store(self, key: str, make: Callable[[], bytes]) -> None:
        def build(path: Path) -> None:
            path.write_bytes(make())

        self._cache.get_or_create_file(*self._slot(key), build, f"Zarr v3 shard {key}")

    def _lock_for(self, source: str) -> threading.Lock:
        with self._guard:
            return self._source_locks.setdefault(source, threading.Lock())

    def _native(self, source: str) -> np.ndarray:
        """The whole v2 array ``source`` (native resolution), assembled from its v2 chunks."""
        spec = self._specs[source]
        out = np.empty(spec.shape, dtype=spec.dtype)
        for index in itertools.product(*(range(n) for n in spec.chunk_grid)):
            region = scenes.chunk_region(spec, index)
            out[region] = scenes.chunk_values(self._original, spec, index)
        return out

    def _encode(self, plan: ShardPlan, native: np.ndarray) -> bytes:
        values = block_mean(native, plan.factor)
        assert values.shape == plan.shape, (plan.path, values.shape, plan.shape)
        return encode_shard(self.layout.array_documents[plan.path], values)


_stores: dict[str, Zarr3Store] = {}
_stores_lock = threading.Lock()


def open_zarr3_store(product_id: str) -> Zarr3Store | None:
    """The v3 store of ``product_id`` (memoised), or None when it has no staging copy."""
    record = zarr3_catalog.zarr3_record(product_id) if isinstance(product_id, str) else None
    if record is None:
        return None
    with _stores_lock:
        store = _stores.get(product_id)
        if store is None:
            store = Zarr3Store(record, VerifiedCache(default_cache_root()))
            _stores[product_id] = store
        return store
