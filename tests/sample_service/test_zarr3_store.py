"""The v3 stores over HTTP: plain xarray and zarr open them, levels are block means of r10m,
shard indexes and checksums verify, and a damaged cached shard is rebuilt.

The first run builds the shards of one band (about 20 s); later runs read the cache.
"""

from __future__ import annotations

import struct
from pathlib import Path

import google_crc32c
import numcodecs
import numpy as np
import pytest
import xarray as xr
import zarr

from helpers.sample_service import settings, zarr3_catalog
from helpers.sample_service.cache import VerifiedCache, default_cache_root
from helpers.sample_service.zarr3_store import LEVELS, REFLECTANCE, Zarr3Store, block_mean

RECORD = zarr3_catalog.records_on(settings.CURRENT_DATE)[0]
EMPTY = 2**64 - 1


@pytest.fixture(scope="module")
def href(sample_service_url: str) -> str:
    return f"{sample_service_url}{settings.CURRENT_DATE}/{zarr3_catalog.store_path(RECORD)}"


def test_plain_xarray_opens_the_tree(href: str) -> None:
    tree = xr.open_datatree(href, engine="zarr")
    for res in LEVELS:
        level = tree[f"{REFLECTANCE}/r{res}m"]
        assert level.sizes["x"] == level.sizes["y"] == 10980 // (res // 10)
        assert level["b04"].attrs["grid_mapping"] == "spatial_ref"
    assert tree["quality/atmosphere/r10m"]["aot"].shape == (10980, 10980)
    assert tree["conditions/mask/l2a_classification/r20m"]["scl"].shape == (5490, 5490)


WINDOW = 2160
"""A window edge every level factor (2, 6, 12, 36, 72) divides."""


@pytest.mark.parametrize("origin", [0, 10944 - WINDOW], ids=["first", "last-whole-blocks"])
def test_levels_are_block_means_of_r10m(href: str, origin: int) -> None:
    group = zarr.open_group(href, mode="r", zarr_format=3)
    full = group[f"{REFLECTANCE}/r10m/b04"]
    assert full.shape == (10980, 10980) and full.dtype == np.uint16
    window = full[origin : origin + WINDOW, origin : origin + WINDOW]
    assert window.any()
    for res in LEVELS[1:]:
        factor = res // 10
        level = group[f"{REFLECTANCE}/r{res}m/b04"]
        assert level.shape == (10980 // factor, 10980 // factor)
        part = slice(origin // factor, (origin + WINDOW) // factor)
        np.testing.assert_array_equal(level[part, part], block_mean(window, factor))
    x = group[f"{REFLECTANCE}/r720m/x"][:]
    assert x[0] == RECORD.utm_origin[0] + 360  # the centre of the first 720 m pixel


def _shard_index(shard: bytes, inner: int) -> np.ndarray:
    """The (offset, length) pairs of a shard's index, after checking its CRC32C."""
    index_size = inner * 16
    index, checksum = shard[-index_size - 4 : -4], shard[-4:]
    assert struct.unpack("<I", checksum)[0] == google_crc32c.value(index)
    return np.frombuffer(index, dtype="<u8").reshape(inner, 2)


@pytest.mark.parametrize("res", [60, 720])
def test_shard_index_and_inner_chunks_verify(href: str, res: int) -> None:
    array = zarr.open_array(f"{href}/{REFLECTANCE}/r{res}m/b04", mode="r", zarr_format=3)
    store = Zarr3Store(RECORD, VerifiedCache(default_cache_root()))
    blob = store.get(f"{REFLECTANCE}/r{res}m/b04/c/0/0")
    assert blob is not None
    shard = blob.read_range(0, blob.size)
    edge = array.metadata.chunk_grid.chunk_shape[0] // 1024
    pairs = _shard_index(shard, edge * edge)
    blosc = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.SHUFFLE)
    values = array[:]
    for number, (offset, length) in enumerate(pairs):
        row, col = divmod(number, edge)
        part = values[row * 1024 : (row + 1) * 1024, col * 1024 : (col + 1) * 1024]
        if offset == length == EMPTY:
            assert not part.size or not part.any()
            continue
        assert offset + length <= len(shard)
        inner = np.frombuffer(blosc.decode(shard[offset : offset + length]), dtype="<u2")
        inner = inner.reshape(1024, 1024)[: part.shape[0], : part.shape[1]]
        np.testing.assert_array_equal(inner, part)


def test_damaged_shard_is_rebuilt(tmp_path: Path) -> None:
    store = Zarr3Store(RECORD, VerifiedCache(tmp_path))
    key = "conditions/mask/l2a_classification/r60m/scl/c/0/0"
    first = store.shard(key)
    good = first.read_range(0, first.size)
    with first.path.open("r+b") as handle:  # flip one byte of the payload
        handle.seek(first.offset + first.size // 2)
        byte = handle.read(1)
        handle.seek(first.offset + first.size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    again = Zarr3Store(RECORD, VerifiedCache(tmp_path)).shard(key)
    assert again.read_range(0, again.size) == good


def test_unknown_keys_are_none() -> None:
    store = Zarr3Store(RECORD, VerifiedCache(default_cache_root()))
    for key in ("nope", f"{REFLECTANCE}/r10m/b04/c/0/1", f"{REFLECTANCE}/r10m/b08x/zarr.json"):
        assert store.get(key) is None
