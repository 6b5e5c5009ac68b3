"""Synthetic but plausible pixel values for every array of every sample product.

Real pixels are gigabytes and cannot ship with the book, but invented ones must still behave
like Earth: land where the coastline is, the clouds the catalogue states, a vegetation signal,
smooth winds, texture that compresses like real chunks. Each product has one *scene*: fields in
world coordinates, seeded by names, from which any chunk of any array is cut. One module per
scene of the tutorial's missions (`s2_l2a`, its seasonal variant `s2_season`, `s1_ocn`,
`s3_lfr`) and `generic` for the product types added by data alone.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np

from ..catalog import S2_TILE_SIZE_M, ProductRecord
from ..products import ArraySpec
from ..products_generic import product_types
from . import generic, s1_ocn, s2_l2a, s2_season, s3_lfr
from .landmask import read_land_mask
from .texture import Region

__all__ = ["Scene", "chunk_region", "chunk_values", "quicklook_tci", "read_land_mask", "scene_for"]


class Scene(Protocol):
    """The one thing the store asks of a scene."""

    def values(self, spec: ArraySpec, region: Region) -> np.ndarray:
        """The decoded values of array ``spec`` in ``region`` (one slice per dimension)."""
        ...


_SCENE_TYPES: dict[str, Callable[[ProductRecord], Scene]] = {
    s2_l2a.PRODUCT_TYPE: s2_l2a.S2Scene,
    s1_ocn.PRODUCT_TYPE: s1_ocn.OcnScene,
    s3_lfr.PRODUCT_TYPE: s3_lfr.LfrScene,
    # Every data-driven product type (templates/product_types.json): one generic scene.
    **{product_type: generic.GenericScene for product_type in product_types()},
}
_scenes: dict[str, Scene] = {}
_scenes_lock = threading.Lock()


def scene_for(record: ProductRecord) -> Scene:
    """The (memoised) scene of ``record``: its product type's, or the season's for a tile
    with land-cover classes."""
    with _scenes_lock:
        if record.id not in _scenes:
            seasonal = record.scene.get("land_cover") == s2_season.LAND_COVER
            make = s2_season.SeasonScene if seasonal else _SCENE_TYPES[record.product_type]
            _scenes[record.id] = make(record)
        return _scenes[record.id]


def chunk_region(spec: ArraySpec, index: tuple[int, ...]) -> Region:
    """The part of the array that chunk ``index`` covers (edge chunks cut at the array end)."""
    grid = spec.chunk_grid
    if len(index) != len(grid) or any(not 0 <= i < n for i, n in zip(index, grid, strict=True)):
        raise IndexError(f"{spec.path} has no chunk {index} (chunk grid {grid})")
    return tuple(
        slice(i * chunk, min((i + 1) * chunk, size))
        for i, chunk, size in zip(index, spec.chunks, spec.shape, strict=True)
    )


def chunk_values(record: ProductRecord, spec: ArraySpec, index: tuple[int, ...]) -> np.ndarray:
    """The decoded values of one chunk (not padded), in the array's dtype."""
    region = chunk_region(spec, index)
    values = np.asarray(scene_for(record).values(spec, region))
    expected = tuple(s.stop - s.start for s in region)
    if values.shape != expected:
        raise AssertionError(f"{spec.path} {index}: made {values.shape}, need {expected}")
    if spec.dtype.kind in "iu" and values.dtype.kind == "f":
        values = np.rint(values)
    return values.astype(spec.dtype, copy=False)


def quicklook_tci(record: ProductRecord, resolution: int) -> np.ndarray:
    """The whole true-colour quicklook (3, n, n) uint8 at 10, 20 or 60 m.

    The same bytes as ``quality/l2a_quicklook/r{resolution}m/tci`` in the store (built chunk
    by chunk, as the store does: a 10 m tile at once would need gigabytes of fields).
    """
    if record.product_type != s2_l2a.PRODUCT_TYPE:
        raise ValueError(f"{record.id} is not a Sentinel-2 L2A product")
    if resolution not in (10, 20, 60):
        raise ValueError(f"resolution must be 10, 20 or 60 m, not {resolution!r}")
    scene = scene_for(record)
    assert isinstance(scene, s2_l2a.S2Scene)
    size = S2_TILE_SIZE_M // resolution
    step = size // 6  # the store's chunks: 6 x 6 per tile
    out = np.empty((3, size, size), dtype=np.uint8)
    for r0, c0 in itertools.product(range(0, size, step), repeat=2):
        rows, cols = slice(r0, min(r0 + step, size)), slice(c0, min(c0 + step, size))
        out[:, rows, cols] = scene.tci(resolution, rows, cols)
    return out
