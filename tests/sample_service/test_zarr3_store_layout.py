"""The v3 store's structure: levels, sharding, the CRS in the store, consolidated root."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import CRS

from helpers.sample_service import settings, zarr3_catalog
from helpers.sample_service.cache import VerifiedCache, default_cache_root
from helpers.sample_service.zarr3_store import (
    INNER_CHUNK,
    LEVELS,
    REFLECTANCE,
    Zarr3Store,
    block_mean,
)


@pytest.fixture(scope="module")
def layout() -> Zarr3Store:
    record = zarr3_catalog.records_on(settings.CURRENT_DATE)[0]
    return Zarr3Store(record, VerifiedCache(default_cache_root()))


def _doc(layout: Zarr3Store, key: str) -> dict:
    return json.loads(layout.documents[key])


def test_block_mean_skips_no_data() -> None:
    values = np.array([[1, 3, 0, 0, 9], [5, 7, 0, 0, 9]], dtype=np.uint16)
    assert block_mean(values, 2).tolist() == [[4, 0]]  # partial block dropped; 0 stays 0
    assert block_mean(values, 1) is values
    halves = np.array([[2, 0], [0, 0]], dtype=np.uint16)
    assert block_mean(halves, 2).tolist() == [[2]]  # the mean of the valid pixel only


def test_six_levels_described_by_multiscales(layout: Zarr3Store) -> None:
    group = _doc(layout, f"{REFLECTANCE}/zarr.json")
    assets = [entry["asset"] for entry in group["attributes"]["multiscales"]["layout"]]
    assert assets == [f"r{res}m" for res in LEVELS]
    for res in LEVELS:
        band = _doc(layout, f"{REFLECTANCE}/r{res}m/b04/zarr.json")
        size = 10980 // (res // 10)
        assert band["shape"] == [size, size]
        (sharding,) = band["codecs"]
        assert sharding["name"] == "sharding_indexed"
        assert sharding["configuration"]["chunk_shape"] == [INNER_CHUNK, INNER_CHUNK]
        shard = band["chunk_grid"]["configuration"]["chunk_shape"]
        assert shard[0] >= size and shard[0] % INNER_CHUNK == 0  # one shard per band level
        assert band["attributes"]["grid_mapping"] == "spatial_ref"


def test_crs_in_every_level(layout: Zarr3Store) -> None:
    record = zarr3_catalog.records_on(settings.CURRENT_DATE)[0]
    for res in LEVELS:
        ref = _doc(layout, f"{REFLECTANCE}/r{res}m/spatial_ref/zarr.json")
        assert CRS.from_wkt(ref["attributes"]["crs_wkt"]).to_epsg() == record.epsg


def test_root_is_consolidated(layout: Zarr3Store) -> None:
    root = _doc(layout, "zarr.json")
    nodes = root["consolidated_metadata"]["metadata"]
    assert f"{REFLECTANCE}/r720m/b04" in nodes
    assert len(nodes) == sum(key.endswith("/zarr.json") for key in layout.documents)
    assert len(layout.documents["zarr.json"]) > 200_000
