"""Land and sea where they really are: crops of the global land mask, cached on disk.

Coastlines, fjords and lakes come from ``global_land_mask`` (GLOBE, 30 arc-seconds); each product
needs a small crop of it, read once and kept in the service's integrity-checked cache.
"""

from __future__ import annotations

import functools
import importlib.util
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from ..cache import VerifiedCache, default_cache_root
from ..catalog import ProductRecord, footprint
from .texture import F32


@dataclass(frozen=True)
class LandGrid:
    """A crop of the global 30-arc-second land mask around one product."""

    land: np.ndarray  # float32, 1 on land
    row0: int
    col0: int

    def fraction(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Land fraction (0..1, bilinear between mask cells) at lon/lat points."""
        rows = (90.0 - np.ravel(lat)) * 120.0 - 0.5 - self.row0
        cols = (np.ravel(lon) + 180.0) * 120.0 - 0.5 - self.col0
        land = ndimage.map_coordinates(self.land, [rows, cols], order=1, mode="nearest")
        return land.reshape(np.shape(lon)).astype(F32)


_MASK_COLUMNS = 43_200  # the global mask: 21600 rows (90 N to 90 S) x 43200 columns


def read_land_mask(row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
    """Rows row0..row1 and columns col0..col1 (inclusive) of the global land mask (True: land).

    Read from the package's data file, not through its API: importing
    ``global_land_mask.globe`` unpacks the whole 933 MB mask into memory,
    while these rows can be streamed out of the compressed file with a few
    megabytes. (The file's own ``lat``/``lon`` members place row 0 at 90 N and
    column 0 at 180 W, 120 cells per degree, as ``globe.lat_to_index`` uses.)
    """
    spec = importlib.util.find_spec("global_land_mask")
    assert spec is not None and spec.submodule_search_locations, "global_land_mask is missing"
    path = Path(spec.submodule_search_locations[0]) / "globe_combined_mask_compressed.npz"
    with zipfile.ZipFile(path) as archive, archive.open("mask.npy") as member:
        major, _ = np.lib.format.read_magic(member)
        read_header = getattr(np.lib.format, f"read_array_header_{major}_0")
        shape, fortran, dtype = read_header(member)
        assert shape == (21_600, _MASK_COLUMNS) and not fortran and dtype == np.bool_
        member.seek(member.tell() + row0 * _MASK_COLUMNS)  # decompresses and skips
        rows = np.frombuffer(member.read((row1 - row0 + 1) * _MASK_COLUMNS), dtype=np.bool_)
    ocean = rows.reshape(row1 - row0 + 1, _MASK_COLUMNS)[:, col0 : col1 + 1]
    return ~ocean  # the file marks the ocean


@functools.lru_cache(maxsize=1)
def aux_cache() -> VerifiedCache:
    return VerifiedCache(default_cache_root())


@functools.lru_cache(maxsize=32)
def land_grid(west: float, south: float, east: float, north: float) -> LandGrid:
    """The land mask around a lon/lat box (with a margin), cached on disk."""
    row0 = max(int((90.0 - north - 0.3) * 120), 0)
    row1 = min(int((90.0 - south + 0.3) * 120), 21599)
    col0 = max(int((west + 180.0 - 0.3) * 120), 0)
    col1 = min(int((east + 180.0 + 0.3) * 120), 43199)

    def make() -> bytes:
        return np.packbits(read_land_mask(row0, row1, col0, col1), axis=1).tobytes()

    blob = aux_cache().get_or_create(f"landmask/v2/{row0}_{row1}_{col0}_{col1}", make)
    packed = np.frombuffer(blob, dtype=np.uint8).reshape(row1 - row0 + 1, -1)
    land = np.unpackbits(packed, axis=1, count=col1 - col0 + 1).astype(F32)
    # Softened by about one cell: interpolated, a hard 0/1 mask would draw
    # coastlines as staircases of its 1 km cells.
    return LandGrid(land=ndimage.gaussian_filter(land, 1.0), row0=row0, col0=col0)


class RecordLand:
    """What every scene shares: its ``record`` and the land mask around it."""

    record: ProductRecord

    @functools.cached_property
    def land(self) -> LandGrid:
        """The land mask around the product (loaded on first use: opening a store needs none)."""
        bbox, _ = footprint(self.record)
        return land_grid(*(round(v, 4) for v in bbox))
