"""Zarr v2 stores of the sample products: keys in, the bytes a real store holds out.

Metadata keys come from the product's consolidated metadata (`products`); chunks are generated
on request from the product's scene (`scenes`), encoded with the array's own codec and kept in
the `VerifiedCache`, so a product is never materialised whole and a chunk's bytes never change.
"""

from __future__ import annotations

import re

import numcodecs
import numpy as np
import zarr

from . import products, scenes
from .cache import VerifiedCache, content_digest, default_cache_root, one_per_key
from .catalog import ProductRecord, get_product

_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")
_GENERATOR_FILES = (
    *("catalog.py", "cpm_versions.py", "products.py", "products_generic.py"),
    *("zarr_store.py", "zarr3_store.py", "solar.py", "timefmt.py"),
)


def generator_version(record: ProductRecord) -> str:
    """A digest of everything that decides a product's chunk and shard bytes.

    The scene, template and encoding code, the templates, the product's record and the
    libraries that encode: part of every cache key, so a change to any of them simply stops
    old entries from being asked for.
    """
    patterns = ("scenes/*.py", "templates/*.json", "templates/zarr3/*.json")
    return content_digest(
        _GENERATOR_FILES, patterns, repr(record), np.__version__, zarr.__version__
    )


class ProductStore:
    """The read-only Zarr v2 store of one sample product."""

    def __init__(self, record: ProductRecord, cache: VerifiedCache) -> None:
        self.record = record
        self._cache = cache
        self._version = generator_version(record)
        zmetadata = products.build_zmetadata(record)
        meta = zmetadata["metadata"]
        self._specs = products.array_specs(zmetadata)
        # Every metadata document, serialised once, as the live stores hold them.
        self._documents = {key: products.dump_document(value) for key, value in meta.items()}
        self._documents[".zmetadata"] = products.dump_document(zmetadata)
        self._groups = sorted(
            key[: -len(".zgroup")].rstrip("/") for key in meta if key.endswith(".zgroup")
        )

    def group_paths(self) -> list[str]:
        """Every group: "" for the root, then e.g. "measurements/reflectance/r10m"."""
        return list(self._groups)

    def array_paths(self) -> list[str]:
        return sorted(self._specs)

    def array_spec(self, path: str) -> products.ArraySpec | None:
        return self._specs.get(path)

    def get(self, key: str) -> bytes | None:
        """The bytes stored under ``key`` (relative to the product root), or None.

        None for anything a real store would not hold: unknown arrays or
        groups, chunk indices out of range, and malformed or
        traversal-looking keys ("..", "//", a leading "/", backslashes).
        """
        document = self._documents.get(key)
        if document is not None:
            return document
        array_path, _, chunk_id = key.rpartition("/")
        spec = self._specs.get(array_path)
        index = None if spec is None else _parse_chunk_id(spec, chunk_id)
        if spec is None or index is None:
            return None
        cache_key = f"{self._version}/{self.record.id}/{key}"
        return self._cache.get_or_create(
            cache_key, lambda: encode_chunk(spec, scenes.chunk_values(self.record, spec, index))
        )


def _parse_chunk_id(spec: products.ArraySpec, chunk_id: str) -> tuple[int, ...] | None:
    if not spec.shape:  # a 0-d array has exactly one chunk, "0"
        return () if chunk_id == "0" else None
    parts = chunk_id.split(".")
    if len(parts) != len(spec.shape) or not all(_INDEX.fullmatch(p) for p in parts):
        return None
    index = tuple(int(p) for p in parts)
    if any(i >= n for i, n in zip(index, spec.chunk_grid, strict=True)):
        return None
    return index


def encode_chunk(spec: products.ArraySpec, values: np.ndarray) -> bytes:
    """The stored bytes of one chunk of ``spec`` holding ``values`` (edge chunks padded)."""
    if values.shape != spec.chunks:
        # zarr v2 stores edge chunks whole; the part past the array's end
        # holds the fill value (zeros when there is none).
        fill = 0 if spec.fill_value is None else spec.fill_value
        padded = np.full(spec.chunks, fill, dtype=spec.dtype)
        padded[tuple(slice(0, n) for n in values.shape)] = values
        values = padded
    chunk = np.ascontiguousarray(values, dtype=spec.dtype)
    if spec.compressor is None:
        return chunk.tobytes()
    # The array itself, not its bytes: Blosc shuffles by the item size, as zarr does.
    return bytes(numcodecs.get_codec(dict(spec.compressor)).encode(chunk))


@one_per_key
def open_store(product_id: str) -> ProductStore | None:
    """The store of ``product_id`` (made once), or None when there is no such product."""
    record = get_product(product_id) if isinstance(product_id, str) else None
    return None if record is None else ProductStore(record, VerifiedCache(default_cache_root()))
