"""Synthetic but plausible pixel values for every array of every sample product.

Why this module exists: the sample service must serve the same bytes a real
EOPF store would hold, except that the pixels are invented (the real ones are
gigabytes and cannot ship with the book). Invented pixels still have to look
and behave like Earth: land where the coastline really is, clouds in the amount
the catalogue says, a vegetation signal in the near infrared, winds that vary
smoothly, and enough texture that compressed chunks have realistic sizes.

How: every product has one *scene*, a set of fields evaluated in world
coordinates (UTM metres for Sentinel-2 tiles, the image grid of a swath for
Sentinel-1 and -3), so any chunk, at any resolution, of any band is cut from
the same picture. All of it is seeded by names (tile, product id), never by
global state, so the same request always yields the same bytes.

Sections: coherent noise and textures, the real land mask, then one scene
class per product type (`S2Scene`, `OcnScene`, `LfrScene`). Public:
`chunk_values` (the values of one chunk of one array, as the store encodes
them) and `quicklook_tci` (a whole true-colour quicklook, the same bytes as
the store's), plus `scene_for` and `chunk_region`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.util
import io
import math
import re
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from .catalog import S2_TILE_SIZE_M, ProductRecord, footprint
from .chunk_cache import ChunkCache, default_cache_root
from .products import ArraySpec, meteo_grid, solar_angles

# ==========================================================================
# Deterministic noise and textures: the raw material of every scene.
#
# A scene must look natural (structure at every scale,
# neither flat nor white noise), be the same on every request, and be cheap to
# evaluate for any block of pixels. Four tools do it:
#
# * `fbm`: hashed lattice ("value") noise summed over octaves, a pure function
#   of world coordinates and a seed, for the large scales;
# * `fine`: two periodic, band-limited textures (FFT synthesis, made once) for
#   the fine scales, sampled by global pixel index; their periods differ, so the
#   sum repeats only every few hundred kilometres. ``factor`` > 1 samples block
#   means, so a 20 m pixel sees the mean texture of its four 10 m pixels;
# * `white` and `detail`: periodic white noise (sensor noise), and white noise
#   that sums to zero over every 60 m block (ground detail finer than 60 m);
# * `upsample` and `ramp`: bilinear interpolation from a coarse node grid and a
#   clipped linear ramp, written for speed (in place, separable).
#
# numpy's random generators give white noise only; coherent noise needs these
# few functions (no library for it is among the project's dependencies).

F32 = np.float32


def seed_of(*parts: object) -> int:
    """A 32-bit seed derived from names (stable across runs and platforms)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def _lattice(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """Pseudo-random values in [-1, 1) at integer lattice points (an integer hash)."""
    ix, iy = np.atleast_1d(ix), np.atleast_1d(iy)  # array maths wraps silently; scalars warn
    h = ix.astype(np.uint32) * np.uint32(0x9E3779B1)
    h ^= iy.astype(np.uint32) * np.uint32(0x85EBCA77)
    h ^= np.uint32(seed & 0xFFFFFFFF)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x7FEB352D)
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x846CA68B)
    h ^= h >> np.uint32(16)
    return (h >> np.uint32(8)).astype(F32) * F32(2.0 / (1 << 24)) - F32(1.0)


# Standard deviation of one octave of `_value_noise` (measured), used to give
# `fbm` unit variance so amplitudes below read as multiples of one sigma.
_VALUE_NOISE_STD = 0.40


def _value_noise(px: np.ndarray, py: np.ndarray, spacing: float, seed: int) -> np.ndarray:
    """Smoothly interpolated lattice noise with lattice ``spacing`` (same unit as px, py)."""
    fx = np.asarray(px, dtype=np.float64) / spacing
    fy = np.asarray(py, dtype=np.float64) / spacing
    ix, iy = np.floor(fx), np.floor(fy)
    tx, ty = (fx - ix).astype(F32), (fy - iy).astype(F32)
    sx, sy = tx * tx * (3 - 2 * tx), ty * ty * (3 - 2 * ty)
    ix, iy = ix.astype(np.int64), iy.astype(np.int64)
    v00, v10 = _lattice(ix, iy, seed), _lattice(ix + 1, iy, seed)
    v01, v11 = _lattice(ix, iy + 1, seed), _lattice(ix + 1, iy + 1, seed)
    top = v00 + sx * (v10 - v00)
    bottom = v01 + sx * (v11 - v01)
    return top + sy * (bottom - top)


def fbm(
    px: np.ndarray, py: np.ndarray, largest: float, smallest: float, seed: int, gain: float = 0.55
) -> np.ndarray:
    """Fractal (multi-octave) noise with about unit standard deviation.

    Octaves from ``largest`` down to ``smallest`` lattice spacing, each half
    the previous one and ``gain`` times as strong; each octave's lattice is
    offset so that lattice points of different octaves never coincide.
    """
    total = np.zeros(np.shape(px), dtype=F32)
    norm, amplitude, spacing, octave = 0.0, 1.0, float(largest), 0
    while spacing >= smallest * 0.999:
        offset = spacing * (0.318 + 0.271 * octave)
        total += F32(amplitude) * _value_noise(
            np.asarray(px) + offset, np.asarray(py) - offset, spacing, seed + 7919 * octave
        )
        norm += amplitude * amplitude
        amplitude *= gain
        spacing /= 2
        octave += 1
    return total / F32(math.sqrt(norm) * _VALUE_NOISE_STD)


# Fine-scale textures: periods in pixels of the finest grid (10 m for S2);
# divisible by 6 so that 20 m and 60 m block means tile seamlessly.
_TEXTURE_PERIODS = (510, 522)
_NOISE_PERIOD = 1020


@functools.lru_cache(maxsize=64)
def texture(which: int, factor: int = 1) -> np.ndarray:
    """A periodic, band-limited fractal texture (unit variance at ``factor`` 1).

    FFT synthesis of white noise filtered to an amplitude spectrum k^-1.3
    (natural-looking) between 2 and about 120 pixels; larger scales come from
    `fbm`. ``factor`` > 1 gives the block mean over factor x factor pixels:
    the same texture seen by a coarser sensor.
    """
    if factor > 1:
        base = texture(which, 1)
        size = base.shape[0] // factor
        return base.reshape(size, factor, size, factor).mean(axis=(1, 3), dtype=F32)
    period = _TEXTURE_PERIODS[which]
    rng = np.random.default_rng(seed_of("texture", which))
    spectrum = np.fft.rfft2(rng.standard_normal((period, period)))
    ky = np.fft.fftfreq(period)[:, None]
    kx = np.fft.rfftfreq(period)[None, :]
    k = np.hypot(ky, kx)
    k[0, 0] = 1.0
    gain = k**-1.3 * (1 - np.exp(-((k * 120) ** 4)))
    gain[0, 0] = 0.0
    pattern = np.fft.irfft2(spectrum * gain, s=(period, period))
    return (pattern / pattern.std()).astype(F32)


@functools.lru_cache(maxsize=8)
def white(factor: int = 1) -> np.ndarray:
    """Periodic white noise (unit variance at ``factor`` 1), block-averaged like `texture`."""
    if factor > 1:
        base = white(1)
        size = base.shape[0] // factor
        return base.reshape(size, factor, size, factor).mean(axis=(1, 3), dtype=F32)
    rng = np.random.default_rng(seed_of("sensor-noise"))
    return rng.standard_normal((_NOISE_PERIOD, _NOISE_PERIOD), dtype=F32)


# Blocks of the finest grid that the coarsest grid averages (60 m over 10 m for S2).
_DETAIL_BLOCK = 6


@functools.lru_cache(maxsize=8)
def detail(factor: int = 1) -> np.ndarray:
    """Periodic white noise whose every 6 x 6 block sums to zero (unit variance at ``factor`` 1).

    Ground detail finer than the coarsest pixel (stones, shrubs, wave facets):
    it gives 10 m and 20 m pixels the variance real ones have, and averages
    out exactly in a 60 m pixel, as it does on the ground, instead of leaving
    a residue that 8-bit quicklooks would turn into noise. Sampled, like
    `white`, at global pixel indices; offsets must be multiples of the block
    for the blocks to stay aligned with the 60 m grid.
    """
    if factor > 1:
        base = detail(1)
        size = base.shape[0] // factor
        return base.reshape(size, factor, size, factor).mean(axis=(1, 3), dtype=F32)
    rng = np.random.default_rng(seed_of("sub-pixel-detail"))
    n, b = _NOISE_PERIOD // _DETAIL_BLOCK, _DETAIL_BLOCK
    blocks = rng.standard_normal((n, b, n, b), dtype=F32)
    blocks -= blocks.mean(axis=(1, 3), keepdims=True)
    blocks *= F32(math.sqrt(b * b / (b * b - 1)))
    return blocks.reshape(n * b, n * b)


def _wrapped_runs(start: int, count: int, period: int) -> list[tuple[int, int, int]]:
    """(source, target, length) runs that cover ``count`` indices from ``start``, modulo period."""
    runs, done = [], 0
    while done < count:
        source = (start + done) % period
        length = min(period - source, count - done)
        runs.append((source, done, length))
        done += length
    return runs


def sample(texture: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``texture`` at global pixel indices (1-D row and column indices), wrapped.

    Chunks ask for consecutive indices, which is a few rectangular copies of
    the periodic texture: several times faster than a gather (``take``) per
    axis, and this runs for several textures per chunk.
    """
    period = texture.shape[0]
    rows, cols = np.asarray(rows), np.asarray(cols)
    consecutive = all(
        a.ndim == 1
        and a.size > 0
        and int(a[-1]) - int(a[0]) == a.size - 1
        and (np.diff(a) == 1).all()
        for a in (rows, cols)
    )
    if not consecutive:
        return texture.take(np.mod(rows, period), axis=0).take(np.mod(cols, period), axis=1)
    out = np.empty((rows.size, cols.size), dtype=texture.dtype)
    col_runs = _wrapped_runs(int(cols[0]), cols.size, period)
    for rs, rt, rn in _wrapped_runs(int(rows[0]), rows.size, period):
        for cs, ct, cn in col_runs:
            out[rt : rt + rn, ct : ct + cn] = texture[rs : rs + rn, cs : cs + cn]
    return out


def fine(
    rows: np.ndarray, cols: np.ndarray, factor: int, offset: int = 0, sign: float = 1.0
) -> np.ndarray:
    """The sum of the two textures (unit variance), shifted by ``offset`` pixels.

    Different offsets (or ``sign``) give independent-looking patterns from
    the same two textures, e.g. ground texture and cloud texture. ``offset``
    counts pixels of the finest grid and should be a multiple of ``factor``:
    then a coarse pixel sees the mean of the fine pixels it covers, shifted
    texture included.
    """
    step = offset // factor
    first = sample(texture(0, factor), rows + step, cols + 3 * step)
    second = sample(texture(1, factor), rows + 5 * step, cols + 2 * step)
    if sign > 0:
        first += second
    else:
        first -= second
    first *= F32(math.sqrt(0.5))
    return first


def upsample(nodes: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray | np.float32:
    """Bilinear interpolation of a node grid at fractional node coordinates.

    Separable (rows x columns) so it costs a few passes over the output. A
    constant field comes back as a scalar, which keeps open-ocean chunks cheap.
    """
    if float(nodes.min()) == float(nodes.max()):
        return F32(nodes.flat[0])
    i = fx.astype(np.intp)
    w = (fx - i).astype(F32)
    across = nodes[:, i] * (1 - w) + nodes[:, i + 1] * w
    j = fy.astype(np.intp)
    v = (fy - j).astype(F32)[:, None]
    out = np.take(across[1:] - across[:-1], j, axis=0)
    out *= v
    out += np.take(across, j, axis=0)
    return out


def ramp(values: Any, start: float, width: float) -> Any:
    """0 below ``start``, 1 above ``start + width``, linear between.

    Works in place on a float32 array (callers pass temporaries), as
    ``np.clip`` is several times slower than two in-place comparisons.
    """
    if np.ndim(values) == 0 or getattr(values, "dtype", None) != F32:
        return np.clip((np.asarray(values, dtype=F32) - F32(start)) / F32(width), 0, 1)
    values -= F32(start)
    values *= F32(1 / width)
    np.maximum(values, 0, out=values)
    np.minimum(values, 1, out=values)
    return values


# ==========================================================================
# Land and sea where they really are: crops of the global land mask.
#
# The scenes put coastlines, fjords and lakes where the
# Earth has them, from ``global_land_mask`` (GLOBE, 30 arc-seconds). Each
# product needs a small crop of it, read once and kept in the chunk cache.


@dataclass(frozen=True)
class LandGrid:
    """A crop of the global 30-arc-second land mask around one product."""

    land: np.ndarray  # float32, 1 on land
    row0: int
    col0: int

    def fraction(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Land fraction (0..1, bilinear between mask cells) at lon/lat points."""
        rows = (90.0 - np.asarray(lat)) * 120.0 - 0.5 - self.row0
        cols = (np.asarray(lon) + 180.0) * 120.0 - 0.5 - self.col0
        return (
            ndimage.map_coordinates(
                self.land, [rows.ravel(), cols.ravel()], order=1, mode="nearest"
            )
            .reshape(np.shape(lon))
            .astype(F32)
        )


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
        version = np.lib.format.read_magic(member)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(member)
        assert shape == (21_600, _MASK_COLUMNS) and not fortran and dtype == np.bool_
        member.seek(member.tell() + row0 * _MASK_COLUMNS)  # decompresses and skips
        rows = np.frombuffer(member.read((row1 - row0 + 1) * _MASK_COLUMNS), dtype=np.bool_)
    ocean = rows.reshape(row1 - row0 + 1, _MASK_COLUMNS)[:, col0 : col1 + 1]
    return ~ocean  # the file marks the ocean


@functools.lru_cache(maxsize=1)
def aux_cache() -> ChunkCache:
    return ChunkCache(default_cache_root())


@functools.lru_cache(maxsize=32)
def land_grid(west: float, south: float, east: float, north: float) -> LandGrid:
    """The land mask around a lon/lat box (with a margin), cached on disk."""
    row0 = max(int((90.0 - north - 0.3) * 120), 0)
    row1 = min(int((90.0 - south + 0.3) * 120), 21599)
    col0 = max(int((west + 180.0 - 0.3) * 120), 0)
    col1 = min(int((east + 180.0 + 0.3) * 120), 43199)

    def make() -> bytes:
        crop = read_land_mask(row0, row1, col0, col1)
        buffer = io.BytesIO()
        np.save(buffer, np.packbits(crop, axis=1))
        return buffer.getvalue()

    blob = aux_cache().get_or_create(f"landmask/v1/{row0}_{row1}_{col0}_{col1}", make)
    packed = np.load(io.BytesIO(blob))
    land = np.unpackbits(packed, axis=1, count=col1 - col0 + 1).astype(F32)
    # Softened by about one cell: interpolated, a hard 0/1 mask would draw
    # coastlines as staircases of its 1 km cells.
    return LandGrid(land=ndimage.gaussian_filter(land, 1.0), row0=row0, col0=col0)


def record_land(record: ProductRecord) -> LandGrid:
    bbox, _ = footprint(record)
    return land_grid(*(round(v, 4) for v in bbox))


# ==========================================================================
# Small helpers shared by the scenes of the three missions.

Region = tuple[slice, ...]  # the part of an array one chunk covers


def lru_get(
    cache: OrderedDict, lock: threading.Lock, key: Any, make: Callable[[], Any], size: int
) -> Any:
    """A tiny thread-safe LRU (values computed outside the lock)."""
    with lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = make()
    with lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)
    return value


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def slices_to_ranges(region: Region) -> list[np.ndarray]:
    return [np.arange(s.start, s.stop) for s in region]


# ==========================================================================
# The synthetic scene of a Sentinel-2 L2A tile: sea, land, snow, clouds and shadows.
#
# Fields are evaluated in the tile's UTM coordinates, so every band and every
# resolution (10, 20, 60 m) is cut from the same picture: a coarse grid of
# world-aligned nodes (240 m) carries the large scales (land fraction from the
# real land mask, vegetation, relief, clouds and their shadows), textures add
# the fine ones, and each band is a weighted sum of material spectra. Cloud
# amount follows the record's cloud cover; the swath edge of the orbit leaves
# part of some tiles without data, as on the real tiles. The scene
# classification (SCL), quicklook (TCI), masks, angles and meteorology derive
# from the same fields, so they agree with the reflectances.

S2_BANDS = (
    "b01",
    "b02",
    "b03",
    "b04",
    "b05",
    "b06",
    "b07",
    "b08",
    "b8a",
    "b09",
    "b10",
    "b11",
    "b12",
)
# Reflectance spectra of the scene's materials, per band (typical published
# values, rounded): open sea, green vegetation, bare soil / tundra, snow, cloud.
_SPECTRA = {
    "water": (
        0.032,
        0.026,
        0.017,
        0.007,
        0.005,
        0.004,
        0.0035,
        0.003,
        0.003,
        0.002,
        0.001,
        0.0015,
        0.001,
    ),
    "veg": (0.025, 0.035, 0.07, 0.04, 0.11, 0.27, 0.33, 0.36, 0.37, 0.36, 0.005, 0.19, 0.09),
    "soil": (0.07, 0.085, 0.115, 0.135, 0.16, 0.19, 0.21, 0.23, 0.24, 0.24, 0.01, 0.28, 0.21),
    "snow": (0.88, 0.88, 0.87, 0.85, 0.83, 0.81, 0.79, 0.76, 0.74, 0.58, 0.03, 0.06, 0.04),
    "cloud": (0.85, 0.85, 0.85, 0.85, 0.86, 0.86, 0.86, 0.86, 0.86, 0.76, 0.42, 0.58, 0.44),
    # Sun glint and foam on wave facets: spectrally flat, except where the
    # atmosphere absorbs (b10). Its weight is zero-mean detail, so it adds
    # variance at 10 and 20 m and nothing to any 60 m pixel.
    "glint": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.0, 0.7, 0.6),
}
# Texture amplitudes, tuned so that compressed chunks come near the real ones:
# a 10 m band chunk a few MB, the 60 m quicklook of an Arctic coast under a
# megabyte (the seed measured 0.63 MB of quicklook chunks on the real product).
# Blosc-zstd has no delta filter, so a uint8 quicklook compresses well only
# where values repeat: saturated cloud and snow, no data, calm sea. One 8-bit
# step is 0.25 / 254 ~ 0.001 of reflectance, and anything that still varies
# from 60 m pixel to pixel by a sizeable part of it (sensor noise included)
# flips values and costs bytes; structure finer than 60 m (`detail`) averages
# out there, as it does on real ground, but keeps 10 and 20 m chunks rich.
_SENSOR_NOISE = 0.0004  # reflectance, white, at 10 m (a 60 m mean has a sixth of it)
_GLINT = 0.0012  # reflectance, sub-60 m wave facets over water
_SEA_SWELL = 0.03  # relative, kilometre-scale brightness of the sea (plumes, slicks)
_LAND_DETAIL = 0.05  # relative, sub-60 m brightness of the ground
_LAND_PATCHES = 0.06  # relative, ground brightness from 480 m to 3 km
_LAND_TEXTURE = 0.01  # relative, ground brightness texture from 120 m to 1.2 km
_VEG_TEXTURE = 0.015  # vegetation cover texture from 120 m to 1.2 km
_SNOW_LINE = 0.5  # relief (in sigmas) from which snow lies in the Arctic in early summer
_SNOW_INLAND = 3.0  # relief added from the coast to the plateaus (sigmas)
_SNOW_TEXTURE = 0.04  # raggedness of snow patches' edges (sigmas of relief)
_COAST_TEXTURE = 0.02  # raggedness of the coastline (land fraction)
_LAKE_TEXTURE = 0.08  # raggedness of lake shores (sigmas)
_NODE_SPACING = 240.0  # metres between nodes of the coarse fields (a multiple of 60)
_Y_REF = 10_000_000  # northing near which global row indices count (see `S2Scene.row_ref`)
_COS_INCLINATION = 0.1495  # |cos 98.6 deg|, the Sentinel-2 orbit's inclination
_SWATH_WIDTH = 290_000.0
_DETECTOR_WIDTH = _SWATH_WIDTH / 12
# One point (UTM metres) on the western swath edge of each (zone, relative
# orbit). The tutorial's T26TML lies at the western edge of orbit 95's swath:
# its top-left corner is outside the swath (no data), as in the real product.
_S2_WEST_EDGE = {
    (32626, 95): (399_960.0, 4_555_020.0),
    (32635, 51): (460_000.0, 7_900_020.0),
}
_CLOUD_SOFTNESS = 0.4  # width (in sigmas of the cloud field) of a cloud's edge
_CLOUDY = 0.3  # opacity from which a pixel counts as cloud (SCL 8, 9, 10)
_CLOUD_TEXTURE = 0.02
_CLOUD_HEIGHT = 2500.0  # metres: sets the offset between a cloud and its shadow


@dataclass
class _S2Fields:
    """Everything about one block of pixels at one resolution that the bands share."""

    valid: np.ndarray | None  # None: every pixel is inside the swath
    alpha: Any  # cloud opacity 0..1
    shade: Any  # 1, or less in cloud shadow
    water: Any  # 1 water, 0 land
    snow: Any
    weights: dict[str, Any]  # material -> weight in the band sum


class S2Scene:
    """The synthetic scene of one Sentinel-2 L2A tile on one date."""

    def __init__(self, record: ProductRecord) -> None:
        assert record.epsg is not None and record.utm_origin is not None
        from pyproj import Transformer

        self.record = record
        self.x0, self.y0 = (float(v) for v in record.utm_origin)
        self.to_lonlat = Transformer.from_crs(record.epsg, 4326, always_xy=True)
        self.ground_seed = seed_of("ground", record.epsg)  # the same ground on every date
        # One sky per datatake: neighbouring tiles of one pass share their clouds.
        self.sky_seed = seed_of("sky", record.platform, record.start_datetime)
        # In 10 m pixels, a multiple of 6 so that 20 and 60 m see the same shift.
        self.sky_offset = 6 * (self.sky_seed % 9973 + 1000)
        # Global row 0 sits at a northing 60 m-aligned with the tile's top edge, so a
        # 60 m pixel covers exactly 6 x 6 global 10 m rows and columns (x origins
        # of S2 tiles are multiples of 60 m already, y origins are not).
        self.row_ref = _Y_REF + (int(self.y0) - _Y_REF) % 60
        self.col_ref = int(self.x0) % 60
        self.start = parse_time(record.start_datetime)
        centre_lon, centre_lat = self.to_lonlat.transform(
            self.x0 + S2_TILE_SIZE_M / 2, self.y0 - S2_TILE_SIZE_M / 2
        )
        self.centre_lat = float(centre_lat)
        zenith, azimuth = solar_angles(centre_lat, centre_lon, self.start)
        self.sun_zenith, self.sun_azimuth = float(zenith), float(azimuth)
        reach = _CLOUD_HEIGHT * math.tan(math.radians(self.sun_zenith))
        # A shadow falls away from the sun: the shadow at p is cast by the cloud at p + s.
        self.shadow_shift = (
            reach * math.sin(math.radians(self.sun_azimuth)),
            reach * math.cos(math.radians(self.sun_azimuth)),
        )
        self.edge = _S2_WEST_EDGE.get((record.epsg, record.relative_orbit))
        # The ground track leans further from north-south the nearer the pole
        # (about 13 degrees at 41 N, 28 at 70 N; +1.5 for the Earth's rotation).
        self.tilt = math.asin(_COS_INCLINATION / math.cos(math.radians(self.centre_lat)))
        self.tilt += math.radians(1.5)
        self.arctic = self.centre_lat > 60
        self._lock = threading.Lock()
        self._fields: OrderedDict = OrderedDict()

    @functools.cached_property
    def land(self) -> LandGrid:
        """The land mask around the product (loaded on first use: opening a store needs none)."""
        return record_land(self.record)

    @functools.cached_property
    def inland(self) -> LandGrid:
        """The land mask smoothed over ~3 km: near 1 far from the sea, 0.5 on the coast.

        A stand-in for height above the sea: the coasts of the Arctic tiles
        rise to plateaus a few kilometres inland, where snow lingers into June.
        """
        across = 3.0 / max(math.cos(math.radians(self.centre_lat)), 0.1)  # cells are narrow
        return LandGrid(
            land=ndimage.gaussian_filter(self.land.land, (3.0, across)),
            row0=self.land.row0,
            col0=self.land.col0,
        )

    # --- geometry -----------------------------------------------------------

    def pixel_axes(self, res: int, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, ...]:
        """Pixel-centre x and y (metres) and global pixel indices at ``res``."""
        xs = self.x0 + res * (cols + 0.5)
        ys = self.y0 - res * (rows + 0.5)
        gcols = (int(self.x0) - self.col_ref) // res + cols
        grows = (self.row_ref - int(self.y0)) // res + rows
        return xs, ys, grows, gcols

    def across_track(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
        """Distance (m) east of the swath's western edge, per pixel; None if no edge."""
        if self.edge is None:
            return None
        xe, ye = self.edge
        ux = ((xs - xe) * math.cos(self.tilt)).astype(F32)
        uy = (-(ys - ye) * math.sin(self.tilt)).astype(F32)
        return uy[:, None] + ux[None, :]

    # --- coarse fields on world-aligned nodes -------------------------------

    def cloud_field(self, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        return fbm(px, py, 48_000, 480, self.sky_seed)

    @functools.cached_property
    def cloud_threshold(self) -> float:
        """The cloud-field level that makes the tile as cloudy as its record says.

        Evaluated on a 256 x 256 sample of the tile (texture included), inside
        the swath; the quantile puts the catalogue's share of pixels at or
        above the opacity counted as cloud.
        """
        cover = (self.record.cloud_cover or 0.0) / 100
        idx = np.arange(21, 10980, 43)
        xs, ys, grows, gcols = self.pixel_axes(10, idx, idx)
        px, py = np.meshgrid(xs, ys)
        field = self.cloud_field(px, py) + F32(_CLOUD_TEXTURE) * fine(
            grows, gcols, 1, self.sky_offset, -1.0
        )
        u = self.across_track(xs, ys)
        inside = field if u is None else field[(u >= 0) & (u <= _SWATH_WIDTH)]
        if cover <= 0:
            return float(inside.max()) + 1.0
        return float(np.quantile(inside, 1 - cover)) - _CLOUDY * _CLOUD_SOFTNESS

    def fields(self, res: int, rows: slice, cols: slice) -> _S2Fields:
        key = (res, rows.start, rows.stop, cols.start, cols.stop)
        # Two blocks: the bands of one block are usually asked for together
        # (a quicklook, a band ratio); a 10 m block's fields weigh ~100 MB.
        return lru_get(
            self._fields, self._lock, key, lambda: self._compute_fields(res, rows, cols), size=2
        )

    def _compute_fields(self, res: int, rows: slice, cols: slice) -> _S2Fields:
        # Written with in-place operations: this is the hot loop of the
        # service (a 10 m chunk has 3.3 million pixels). Linear combinations
        # of smooth fields are formed on the nodes, before upsampling.
        r = np.arange(rows.start, rows.stop)
        c = np.arange(cols.start, cols.stop)
        xs, ys, grows, gcols = self.pixel_axes(res, r, c)
        d = _NODE_SPACING
        kx = np.arange(math.floor(xs[0] / d) - 1, math.floor(xs[-1] / d) + 3)
        ky = np.arange(math.floor(ys[0] / d) + 2, math.floor(ys[-1] / d) - 2, -1)
        node_x, node_y = np.meshgrid(kx * d, ky * d)
        fx = (xs - kx[0] * d) / d
        fy = (ky[0] * d - ys) / d
        factor = res // 10

        u = self.across_track(xs, ys)
        valid = None if u is None else (u >= 0) & (u <= _SWATH_WIDTH)
        if valid is not None and valid.all():
            valid = None

        thr = self.cloud_threshold
        sky = fine(grows, gcols, factor, self.sky_offset, -1.0)
        cloud_nodes = self.cloud_field(node_x, node_y)
        alpha = ramp(
            upsample(cloud_nodes, fy, fx) + F32(_CLOUD_TEXTURE) * sky, thr, _CLOUD_SOFTNESS
        )
        sx, sy = self.shadow_shift
        shadow_nodes = ramp(self.cloud_field(node_x + sx, node_y + sy), thr + 0.1, _CLOUD_SOFTNESS)
        shade = upsample(1 - F32(0.6) * shadow_nodes, fy, fx)
        # Thicker cloud is brighter; a little texture for the tops.
        bright_nodes = F32(0.9) + F32(0.12) * ramp(cloud_nodes, thr + _CLOUD_SOFTNESS, 1.5)
        cloud_weight = upsample(bright_nodes, fy, fx) + F32(0.006) * sky
        cloud_weight *= alpha
        weights: dict[str, Any] = {"cloud": cloud_weight}
        surface = 1 - alpha
        surface *= shade
        del sky

        lon, lat = self.to_lonlat.transform(node_x, node_y)
        land_nodes = self.land.fraction(lon, lat)
        ground = fine(grows, gcols, factor)
        # Sub-60 m detail exists only on the finer grids (it sums to zero in a 60 m pixel).
        bits = None if factor % _DETAIL_BLOCK == 0 else sample(detail(factor), grows, gcols)
        swell = upsample(
            F32(1.0) + F32(_SEA_SWELL) * fbm(node_x, node_y, 8_000, 480, self.sky_seed + 5), fy, fx
        )
        sea = swell  # no finer texture: at 60 m open water is smooth to the 8-bit step
        if float(land_nodes.max()) < 0.02:  # open sea: skip the land fields
            water, snow = F32(1.0), F32(0.0)
            sea *= surface
            weights["water"] = sea
            if bits is not None:
                bits *= surface * F32(_GLINT)
                weights["glint"] = bits
            return _S2Fields(valid, alpha, shade, water, snow, weights)
        bays = fbm(node_x, node_y, 4_000, 480, self.ground_seed + 3)
        coast = upsample(land_nodes + F32(0.16) * bays, fy, fx) + F32(_COAST_TEXTURE) * ground
        lakes = upsample(fbm(node_x, node_y, 6_000, 960, self.ground_seed + 1), fy, fx)
        lakes += F32(_LAKE_TEXTURE) * ground
        water = ((coast < 0.5) | (lakes > 1.8)).astype(F32)  # sea, and a few lakes
        del coast, lakes
        base = 0.35 if self.arctic else 0.6
        veg_nodes = F32(base) + F32(0.25) * fbm(node_x, node_y, 12_000, 480, self.ground_seed + 2)
        veg = upsample(veg_nodes, fy, fx) + F32(_VEG_TEXTURE) * ground
        np.clip(veg, 0, 1, out=veg)
        if self.arctic:  # snow lingers on high ground in early summer
            relief = fbm(node_x, node_y, 16_000, 480, self.ground_seed)
            relief += F32(_SNOW_INLAND) * (self.inland.fraction(lon, lat) - F32(0.5))
            snow = ramp(upsample(relief, fy, fx) + F32(_SNOW_TEXTURE) * ground, _SNOW_LINE, 0.5)
        else:
            snow = np.zeros_like(water)
        # Brightness of the ground: kilometre-scale patches on the nodes (smooth, so
        # cheap to compress), then a little texture, then detail below 60 m.
        tone = upsample(
            F32(1.0) + F32(_LAND_PATCHES) * fbm(node_x, node_y, 3_000, 480, self.ground_seed + 4),
            fy,
            fx,
        )
        tone += F32(_LAND_TEXTURE) * ground
        if bits is not None:
            tone += F32(_LAND_DETAIL) * bits
        wet = water * surface  # the visible share of water in each pixel
        land_part = surface - wet
        land_part *= tone
        del tone
        sea *= wet
        weights["water"] = sea
        if bits is not None:
            wet *= F32(_GLINT)
            bits *= wet
            weights["glint"] = bits
        del wet
        weights["snow"] = land_part * snow
        land_part -= weights["snow"]
        weights["veg"] = land_part * veg
        land_part -= weights["veg"]
        weights["soil"] = land_part
        return _S2Fields(valid, alpha, shade, water, snow, weights)

    # --- measurements ---------------------------------------------------------

    def reflectance_dn(self, band: str, res: int, rows: slice, cols: slice) -> np.ndarray:
        """Digital counts (uint16, 0 = no data) of one band: (reflectance + 0.1) x 10000."""
        f = self.fields(res, rows, cols)
        b = S2_BANDS.index(band)
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        rho = np.zeros(shape, dtype=F32)
        for material, weight in f.weights.items():
            rho += weight * F32(_SPECTRA[material][b])
        _, _, grows, gcols = self.pixel_axes(
            res, np.arange(rows.start, rows.stop), np.arange(cols.start, cols.stop)
        )
        rho += F32(_SENSOR_NOISE) * sample(white(res // 10), grows + 97 * b, gcols + 389 * b)
        dn = np.clip(np.rint((rho + F32(0.1)) * F32(10000)), 1, 65535).astype(np.uint16)
        if f.valid is not None:
            dn[~f.valid] = 0
        return dn

    def tci(self, res: int, rows: slice, cols: slice) -> np.ndarray:
        """True-colour quicklook (3, n, m) uint8 from the b04, b03, b02 digital counts."""
        out = np.empty((3, rows.stop - rows.start, cols.stop - cols.start), dtype=np.uint8)
        for i, band in enumerate(("b04", "b03", "b02")):
            out[i] = tci_from_dn(self.reflectance_dn(band, res, rows, cols))
        return out

    def scl(self, res: int, rows: slice, cols: slice) -> np.ndarray:
        """Scene classification (SCL classes 0-11) from the same fields as the bands."""
        f = self.fields(res, rows, cols)
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        water = np.broadcast_to(f.water, shape)
        snow = np.broadcast_to(f.snow, shape)
        alpha = np.broadcast_to(f.alpha, shape)
        shade = np.broadcast_to(f.shade, shape)
        # Vegetation or not by the NDVI of the pixel's own (noise-free) reflectances,
        # as the classifier sees them: haze and shadow lower it, as they do there.
        red = sum(w * F32(_SPECTRA[m][S2_BANDS.index("b04")]) for m, w in f.weights.items())
        nir = sum(w * F32(_SPECTRA[m][S2_BANDS.index("b8a")]) for m, w in f.weights.items())
        with np.errstate(invalid="ignore", divide="ignore"):
            ndvi = np.broadcast_to((nir - red) / (nir + red), shape)
        scl = np.where(ndvi > 0.4, 4, 5).astype(np.uint8)  # vegetation / not vegetated
        scl[snow > 0.5] = 11
        scl[water > 0.5] = 6
        scl[shade < 0.75] = 3  # cloud shadow
        scl[(alpha >= 0.15) & (alpha < _CLOUDY)] = 7  # unclassified (hazy edge)
        scl[(alpha >= _CLOUDY) & (alpha < 0.45)] = 10  # thin cirrus
        scl[(alpha >= 0.45) & (alpha < 0.75)] = 8
        scl[alpha >= 0.75] = 9
        if f.valid is not None:
            scl[~f.valid] = 0
        return scl

    def values(self, spec: ArraySpec, region: Region) -> np.ndarray:
        """Decoded values of ``region`` of the array ``spec``."""
        path, name = spec.path, spec.name
        res_match = re.search(r"/r(10|20|60)m/", path)
        if path.startswith("conditions/geometry/"):
            return self._geometry(name)[region]
        if path.startswith("conditions/meteorology/"):
            return self._meteorology(spec)[region]
        assert res_match, path
        res = int(res_match.group(1))
        if name in ("x", "y"):
            (idx,) = slices_to_ranges(region)
            if name == "x":
                return (int(self.x0) + res * idx + res // 2).astype(np.int64)
            return (int(self.y0) - res * idx - res // 2).astype(np.int64)
        if name == "band":
            if spec.shape == ():
                return np.array(1, dtype=np.int64)
            return np.arange(1, 4, dtype=np.int64)[region]
        if name == "tci":
            bands, rows, cols = region
            return self.tci(res, rows, cols)[bands]
        rows, cols = region
        if path.startswith("measurements/reflectance/"):
            return self.reflectance_dn(name, res, rows, cols)
        if name == "scl":
            return self.scl(res, rows, cols)
        return self._masks(path, name, res, rows, cols)

    def _masks(self, path: str, name: str, res: int, rows: slice, cols: slice) -> np.ndarray:
        f = self.fields(res, rows, cols)
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        alpha = np.broadcast_to(f.alpha, shape)
        if "detector_footprint" in path:
            xs, ys, _, _ = self.pixel_axes(
                res, np.arange(rows.start, rows.stop), np.arange(cols.start, cols.stop)
            )
            u = self.across_track(xs, ys)
            if u is None:  # the whole tile inside the swath: detectors by position
                u = self._default_u(xs, ys)
            shift = 150.0 * (S2_BANDS.index(name) % 2 * 2 - 1)  # odd/even band staggering
            out = np.clip((u + F32(shift)) // F32(_DETECTOR_WIDTH) + 1, 1, 12).astype(np.uint8)
        elif path.startswith("quality/mask/"):
            out = np.zeros(shape, dtype=np.uint8)
            out[alpha > 0.985] = 128  # QT_SATURATED_PIXELS_L1A on the brightest cloud tops
        elif "l1c_classification" in path:
            out = np.where(alpha >= 0.45, 1, np.where(alpha >= _CLOUDY, 2, 0)).astype(np.uint8)
            snowy = (np.broadcast_to(f.snow, shape) > 0.5) & (alpha < _CLOUDY)
            out[snowy] = 4
        elif name == "cld":
            out = np.rint(np.clip(alpha * 105, 0, 100)).astype(np.uint8)
        elif name == "snw":
            snow = np.broadcast_to(f.snow * (1 - f.water), shape) * (alpha < _CLOUDY)
            out = np.rint(snow * 100).astype(np.uint8)
        elif name in ("aot", "wvp"):
            out = self._atmosphere(name, res, rows, cols)
        else:
            raise KeyError(path)
        if f.valid is not None:
            out[~f.valid] = 32 if path.startswith("quality/mask/") else 0
        return out

    def _default_u(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        ux = ((xs - self.x0 + 40_000) * math.cos(self.tilt)).astype(F32)
        uy = (-(ys - self.y0) * math.sin(self.tilt)).astype(F32)
        return uy[:, None] + ux[None, :]

    def _atmosphere(self, name: str, res: int, rows: slice, cols: slice) -> np.ndarray:
        r, c = np.arange(rows.start, rows.stop), np.arange(cols.start, cols.stop)
        xs, ys, _, _ = self.pixel_axes(res, r, c)
        d = 2400.0  # aerosol and water vapour vary over kilometres: coarse nodes suffice
        kx = np.arange(math.floor(xs[0] / d) - 1, math.floor(xs[-1] / d) + 3)
        ky = np.arange(math.floor(ys[0] / d) + 2, math.floor(ys[-1] / d) - 2, -1)
        node_x, node_y = np.meshgrid(kx * d, ky * d)
        field = upsample(
            fbm(node_x, node_y, 60_000, 4_800, self.sky_seed + (name == "wvp")),
            (ky[0] * d - ys) / d,
            (xs - kx[0] * d) / d,
        )
        shape = (len(r), len(c))
        if name == "aot":  # AOT x 1000
            values = F32(110) + F32(30) * field
        else:  # water vapour, cm x 1000
            values = F32(1150 if self.arctic else 2100) + F32(250) * field
        return np.broadcast_to(np.rint(values), shape).astype(np.uint16)

    # --- small arrays -------------------------------------------------------------

    @functools.cached_property
    def _geometry_arrays(self) -> dict[str, np.ndarray]:
        """Sun and viewing angles on the 23 x 23 grid (5 km) of conditions/geometry."""
        steps = np.arange(23)
        gx = self.x0 + 5000.0 * steps
        gy = self.y0 - 5000.0 * steps
        px, py = np.meshgrid(gx, gy)
        lon, lat = self.to_lonlat.transform(px, py)
        zenith, azimuth = solar_angles(lat, lon, self.start)
        sun = np.stack([zenith, azimuth])
        u = self.across_track(gx, gy)
        if u is None:
            u = self._default_u(gx, gy)
        u = u.astype(np.float64)
        first = int(np.clip(max(u.min(), 0.0) // _DETECTOR_WIDTH + 1, 1, 7))
        detectors = np.arange(first, first + 6)
        view = np.full((13, 6, 2, 23, 23), np.nan)
        nadir = _SWATH_WIDTH / 2
        for di, det in enumerate(detectors):
            lo = (det - 1) * _DETECTOR_WIDTH - 1500
            hi = det * _DETECTOR_WIDTH + 1500
            covered = (u >= lo) & (u <= hi)
            for b in range(13):  # bands see the ground at slightly different angles
                zenith_b = np.degrees(np.arctan(np.abs(u - nadir) / 786_000.0)) + 0.04 * (b - 6)
                # Azimuth towards the satellite: east of the track's middle, west beyond it.
                azimuth_b = np.where(u > nadir, 283.5, 103.5) + 0.02 * b
                view[b, di, 0] = np.where(covered, zenith_b, np.nan)
                view[b, di, 1] = np.where(covered, azimuth_b, np.nan)
        with np.errstate(invalid="ignore"):
            mean_view = np.nanmean(view, axis=(1, 3, 4))
        return {
            "angle": np.array(["zenith", "azimuth"], dtype="<U7"),
            "band": np.array(S2_BANDS, dtype="<U3"),
            "detector": detectors.astype(np.int64),
            "x": gx.astype(np.int64),
            "y": gy.astype(np.int64),
            "sun_angles": sun,
            "mean_sun_angles": sun.reshape(2, -1).mean(axis=1),
            "viewing_incidence_angles": view,
            "mean_viewing_incidence_angles": mean_view,
        }

    def _geometry(self, name: str) -> np.ndarray:
        return self._geometry_arrays[name]

    def _meteorology(self, spec: ArraySpec) -> np.ndarray:
        lats, lons = meteo_grid(self.record)
        name = spec.name
        if name == "latitude":
            return lats.astype(np.float64)
        if name == "longitude":
            return lons.astype(np.float64)
        scalars = {"isobaricInhPa": 0.0, "surface": 0.0, "number": 0, "time": 0, "valid_time": 0}
        if name in scalars:
            return np.array(scalars[name], dtype=spec.dtype)
        if name == "step":  # nanoseconds from the forecast's midnight to sensing
            minutes = self.start.hour * 60 + self.start.minute
            return np.array(minutes * 60 * 10**9, dtype=np.int64)
        lon_grid, lat_grid = np.meshgrid(lons, lats)
        field = fbm(lon_grid, lat_grid, 2.0, 0.25, self.sky_seed + seed_of(name))
        land = self.land.fraction(lon_grid, lat_grid)
        base, spread = {
            "aod1240": (0.02, 0.005),
            "aod469": (0.14, 0.03),
            "aod550": (0.11, 0.025),
            "aod670": (0.08, 0.02),
            "aod865": (0.06, 0.015),
            "bcaod550": (0.003, 0.001),
            "duaod550": (0.02, 0.01),
            "omaod550": (0.01, 0.003),
            "ssaod550": (0.06, 0.02),
            "suaod550": (0.015, 0.004),
            "z": (0.0, 0.0),
            "msl": (101_600.0, 250.0),
            "r": (78.0, 8.0),
            "tco3": (0.0072, 0.0002),
            "tcwv": (18.0, 3.0),
            "u10": (-3.0, 3.0),
            "v10": (4.0, 3.0),
        }[name]
        values = base + spread * field
        if name == "z":  # surface geopotential: g x height of the ground
            values = 9.80665 * 250.0 * land * (1 + 0.3 * field)
        return values.astype(spec.dtype)


def tci_from_dn(dn: np.ndarray) -> np.ndarray:
    """The L2A quicklook convention: reflectance 0..0.25 to 1..255, 0 for no data."""
    rho = dn.astype(np.float64) * 1e-4 - 0.1
    tci = np.clip(np.rint(1 + rho * (254 / 0.25)), 1, 255).astype(np.uint8)
    tci[dn == 0] = 0
    return tci


# ==========================================================================
# The synthetic wind field of a Sentinel-1 IW OCN product (owi, rvl and osw).
#
# The swath is placed by the record's four corners; winds are smooth fractal
# fields recentred on what the tutorial's product shows (directions 33-91
# degrees, mean 65, moderate speeds), with fill values over land and along a
# ragged strip at far range, as in the real product.


class OcnScene:
    """The synthetic wind field of one Sentinel-1 IW OCN product (owi, rvl, osw)."""

    def __init__(self, record: ProductRecord) -> None:
        assert record.swath_corners is not None and record.swath_shape is not None
        self.record = record
        self.corners = np.asarray(record.swath_corners, dtype=np.float64)
        self.n_az, self.n_rg = record.swath_shape
        self.seed = seed_of("ocn", record.id)
        self.start, self.end = parse_time(record.start_datetime), parse_time(record.end_datetime)

    @functools.cached_property
    def land(self) -> LandGrid:
        """The land mask around the product (loaded on first use: opening a store needs none)."""
        return record_land(self.record)

    def lonlat(self, fa: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lon/lat at fractional azimuth (0 first line) and range (0 first pixel) positions.

        Bilinear between the four swath corners: over an OCN swath (about
        250 x 170 km) the difference to a geodesic grid is far below a cell.
        """
        (lon0, lat0), (lon1, lat1), (lon2, lat2), (lon3, lat3) = self.corners
        lon = (1 - fa) * ((1 - fr) * lon0 + fr * lon1) + fa * ((1 - fr) * lon3 + fr * lon2)
        lat = (1 - fa) * ((1 - fr) * lat0 + fr * lat1) + fa * ((1 - fr) * lat3 + fr * lat2)
        return lon, lat

    @functools.cached_property
    def _wind_norm(self) -> tuple[float, float, float, float]:
        """Mean and spread of the raw wind fields over the owi grid (to recentre them)."""
        fa = (np.arange(self.n_az) / (self.n_az - 1))[:, None]
        fr = (np.arange(self.n_rg) / (self.n_rg - 1))[None, :]
        lon, lat = self.lonlat(fa, fr)
        turn = fbm(lon, lat, 2.5, 0.08, self.seed)
        gust = fbm(lon, lat, 2.5, 0.08, self.seed + 1)
        return float(turn.mean()), float(turn.std()), float(gust.mean()), float(gust.std())

    def _wind(self, lon: np.ndarray, lat: np.ndarray, fr: Any) -> tuple[np.ndarray, ...]:
        """Wind direction (deg, from) and speed (m/s): smooth, like the tutorial's product.

        The tutorial's swath shows directions of 33-91 degrees (mean 65);
        a broad fractal field recentred on those values, with moderate
        speeds (mostly 4-11 m/s), matches it.
        """
        t_mean, t_std, g_mean, g_std = self._wind_norm
        turn = (fbm(lon, lat, 2.5, 0.08, self.seed) - t_mean) / t_std
        gust = (fbm(lon, lat, 2.5, 0.08, self.seed + 1) - g_mean) / g_std
        direction = np.mod(65.0 + 10.0 * turn + 6.0 * (fr - 0.5), 360.0)
        speed = np.clip(7.5 + 1.8 * gust, 0.5, 30.0)
        return direction, speed

    @functools.cached_property
    def owi(self) -> dict[str, np.ndarray]:
        """Every owi array (azimuth x range wind-cell grid), computed once."""
        fa = (np.arange(self.n_az) / (self.n_az - 1))[:, None]
        fr = (np.arange(self.n_rg) / (self.n_rg - 1))[None, :]
        lon, lat = self.lonlat(fa, fr)
        direction, speed = self._wind(lon, lat, fr)
        land = self.land.fraction(lon, lat) > 0.5
        # A ragged strip at far range without a retrieval (the tutorial's
        # product has 430 empty cells).
        az = np.arange(self.n_az, dtype=np.float64)
        ragged = np.rint(2.4 + 1.3 * fbm(az, np.zeros_like(az), 40, 5, self.seed + 2))
        edge = np.arange(self.n_rg)[None, :] >= (self.n_rg - ragged)[:, None]
        invalid = edge | land
        incidence = np.broadcast_to(30.5 + 15.5 * fr, lon.shape)
        vv = 0.0042 * speed**1.25 * (1.3 - 0.6 * (incidence - 30.5) / 15.5)
        nesz = np.broadcast_to(10 ** ((-23.5 + 8.0 * (fr - 0.5) ** 2) / 10), lon.shape)
        smooth = ndimage.uniform_filter
        arrays = {
            "latitude": lat,
            "longitude": lon,
            "wind_direction": np.where(invalid, -999.0, direction),
            "wind_speed": np.where(invalid, -999.0, speed),
            "auxiliary_wind_direction": np.mod(smooth(direction, 25) + 4.0, 360.0),
            "auxiliary_wind_speed": smooth(speed, 25) * 0.95 + 0.3,
            "elevation_angle": np.broadcast_to(27.2 + 13.1 * fr, lon.shape),
            "incidence_angle": incidence,
            "heading": np.broadcast_to(347.6 + 0.3 * fa, lon.shape),
            "mask": np.where(land, 1, np.where(edge, 4, 0)),
            "nesz": np.stack([nesz, nesz * 0.9], axis=-1),
            "nrcs": np.stack([vv + nesz, 0.035 * vv + nesz * 0.9], axis=-1),
            "nrcs_noise_corrected": np.stack([vv, 0.035 * vv], axis=-1),
            "nrcs_wind_gmf": vv * (1 + 0.03 * fbm(lon, lat, 0.5, 0.05, self.seed + 3)),
            "polarisation": np.array([0, 1]),
            "calibration_constant": 1.0 + 0.015 * np.sin(np.linspace(0, 3 * np.pi, 159)),
            "inversion_quality": np.where(speed < 2.5, 2, np.where(speed < 4, 1, 0)),
            "percentage_bright_points": np.where(
                invalid,
                -999.0,
                np.clip(0.15 + 0.1 * fbm(lon, lat, 0.5, 0.05, self.seed + 4), 0, 100),
            ),
            "wind_quality": np.where(invalid, -128, np.where(speed < 4, 1, 0)),
        }
        return arrays

    @functools.cached_property
    def rvl(self) -> dict[str, np.ndarray]:
        """Every rvl array (azimuth x range x sub-swath)."""
        n_az, n_rg = 234, 136
        fa = (np.arange(n_az) / (n_az - 1))[:, None, None]
        fr = (np.arange(3)[None, None, :] + (np.arange(n_rg)[None, :, None] + 0.5) / n_rg) / 3
        lon, lat = self.lonlat(fa, fr)
        shape = lon.shape
        land = self.land.fraction(lon, lat) > 0.5
        wave = fbm(lon, lat, 1.5, 0.05, self.seed + 5)
        incidence = np.broadcast_to(30.5 + 15.5 * fr, shape)
        direction, speed = self._wind(lon, lat, fr)
        nrcs = 0.0042 * speed**1.25 * (1.3 - 0.6 * (incidence - 30.5) / 15.5)
        dc_geo = np.broadcast_to(-25.0 + 50.0 * fa + 3.0 * fr, shape)
        velocity = 0.3 * wave + 0.02 * (speed - 7.5)
        seconds = (self.end - self.start).total_seconds() * np.arange(n_az) / (n_az - 1)
        stamps = [
            (self.start + dt.timedelta(seconds=float(s))).strftime("%Y-%m-%dT%H:%M:%S.%f")
            for s in seconds
        ]
        chars = np.array([list(stamp.encode()) for stamp in stamps], dtype=np.uint8)
        times = np.broadcast_to(chars.view("S1")[:, None, :, None], (n_az, n_rg, 26, 3))

        def masked(values: Any) -> np.ndarray:
            return np.where(land, -999.0, np.broadcast_to(values, shape))

        return {
            "latitude": lat,
            "longitude": lon,
            "radial_velocity": masked(velocity),
            "radial_velocity_standard_deviation": masked(0.18 + 0.04 * wave),
            "azimuth_size": np.full(shape, 1850.0),
            "ground_range_size": np.full(shape, 1000.0),
            "dc_geo": dc_geo,
            "dc_miss": np.broadcast_to(0.4 * np.sin(6 * fa), shape),
            "dc_obs": masked(dc_geo + 5.2 * velocity),
            "heading": np.broadcast_to(347.6 + 0.3 * fa, shape),
            "incidence_angle": incidence,
            "land_coverage": land.astype(np.float64),
            "land_flag": land.astype(np.int8),
            "nrcs": masked(nrcs),
            "pitch": np.broadcast_to(0.02 + 0.01 * fa, shape),
            "roll": np.broadcast_to(-29.35 + 0.05 * fa, shape),
            "yaw": np.broadcast_to(0.08 - 0.02 * fa, shape),
            "slant_range_time": np.broadcast_to(0.00531 + 0.00062 * fr, shape),
            "stokes_drift_x": masked(0.04 * np.sin(np.radians(direction)) * speed / 7.5),
            "stokes_drift_y": masked(0.04 * np.cos(np.radians(direction)) * speed / 7.5),
            "sweep_angle": np.broadcast_to(-0.55 + 1.1 * fa, shape),
            "zero_doppler_time": times,
            "dc_obs_confidence": np.where(land, 0, np.clip(np.rint(85 + 8 * wave), 0, 100)),
            "dc_obs_std": masked(2.5 + 0.5 * wave),
            "snr": masked(11.0 + 3.0 * wave),
        }

    def values(self, spec: ArraySpec, region: Region) -> np.ndarray:
        component = spec.path.split("/", 1)[0]
        if component == "owi":
            return self.owi[spec.name][region]
        if component == "rvl":
            return self.rvl[spec.name][region]
        # osw: the wave-spectra component of an IW product is empty ("osw_status":
        # "missing" in the template): its single cell holds fill values, but it
        # still sits at the swath centre.
        if spec.name in ("latitude", "longitude"):
            lon, lat = self.lonlat(np.full(spec.shape, 0.5), np.full(spec.shape, 0.5))
            return (lat if spec.name == "latitude" else lon)[region]
        fill = 0 if spec.fill_value is None else spec.fill_value
        return np.full(spec.shape, fill, dtype=spec.dtype)[region]


# ==========================================================================
# The synthetic land products of a Sentinel-3 OLCI full-resolution (LFR) swath.
#
# Pixel positions follow great circles between the record's swath corners, with
# OLCI's wider pixels towards the swath edges, so the tutorial product's first
# pixel is where the published one is. Land, cloud and vegetation fields drive
# GIFAPAR, OTCI, the rectified reflectances and the quality flags: the land
# products are valid over clear land only, fill values elsewhere.


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _slerp(p: np.ndarray, q: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points along the great circles from p to q (unit vectors) at fractions t."""
    omega = np.arccos(np.clip(np.sum(p * q, axis=-1, keepdims=True), -1.0, 1.0))
    return (np.sin((1 - t) * omega) * p + np.sin(t * omega) * q) / np.sin(omega)


# OLCI's ground pixels widen towards the swath edges (Earth curvature and the
# viewing angle): a cubic cross-track mapping, slightly denser in the middle
# than at the edges, brings the first pixels' spacing close to the published
# values of the tutorial's product (0.0040 vs 0.0042 degrees of longitude).
_OLCI_EDGE_STRETCH = 0.01
_OLCI_TIE_STEP = 64  # columns per tie point (template: columns_per_tiepoint)
_OLCI_BANDS = np.array(
    [
        400.0,
        412.5,
        442.5,
        490.0,
        510.0,
        560.0,
        620.0,
        665.0,
        673.75,
        681.25,
        708.75,
        753.75,
        761.25,
        764.375,
        767.5,
        778.75,
        865.0,
        885.0,
        900.0,
        940.0,
        1020.0,
    ]
)
_OLCI_FWHM = np.array(
    [15, 10, 10, 10, 10, 10, 10, 10, 7.5, 7.5, 10, 7.5, 2.5, 3.75, 2.5, 15, 20, 10, 10, 20, 40],
    dtype=np.float64,
)
_OLCI_SOLAR = np.array(
    [
        1714.9,
        1872.4,
        1926.6,
        1930.2,
        1804.2,
        1651.5,
        1531.4,
        1475.6,
        1408.9,
        1265.5,
        1255.6,
        1178.0,
        955.0,
        914.2,
        882.8,
        882.8,
        882.8,
        882.8,
        882.8,
        882.8,
        882.8,
    ]
)  # in-band solar irradiance (mW m-2 nm-1), rounded
_PRESSURE_LEVELS = np.array(
    [
        1000,
        950,
        925,
        900,
        850,
        800,
        700,
        600,
        500,
        400,
        300,
        250,
        200,
        150,
        100,
        70,
        50,
        30,
        20,
        10,
        7,
        5,
        3,
        2,
        1,
    ]
)


@dataclass
class _LfrFields:
    land: np.ndarray
    alpha: np.ndarray
    veg: np.ndarray
    ground: np.ndarray
    relief: np.ndarray
    vapour: np.ndarray


class LfrScene:
    """The synthetic land products of one Sentinel-3 OLCI full-resolution swath."""

    def __init__(self, record: ProductRecord) -> None:
        assert record.swath_corners is not None and record.swath_shape is not None
        self.record = record
        self.rows, self.cols = record.swath_shape
        corners = np.asarray(record.swath_corners, dtype=np.float64)
        self.ffp, self.flp, self.llp, self.lfp = _unit_vectors(corners[:, 0], corners[:, 1])
        self.sky_seed = seed_of("sky", record.id)
        self.ground_seed = seed_of("ground", "lonlat")  # one Earth for every swath
        self.start, self.end = parse_time(record.start_datetime), parse_time(record.end_datetime)
        self._lock = threading.Lock()
        self._fields: OrderedDict = OrderedDict()

    @functools.cached_property
    def land(self) -> LandGrid:
        """The land mask around the product (loaded on first use: opening a store needs none)."""
        return record_land(self.record)

    def lonlat(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lon/lat (degrees) of image rows x cols (1-D indices): great circles between corners."""
        t = (np.asarray(rows, dtype=np.float64) / (self.rows - 1))[:, None]
        left = _slerp(self.ffp[None, :], self.lfp[None, :], t)
        right = _slerp(self.flp[None, :], self.llp[None, :], t)
        s = np.asarray(cols, dtype=np.float64) / (self.cols - 1) - 0.5
        g = 0.5 + s * (1 - _OLCI_EDGE_STRETCH) + 4 * _OLCI_EDGE_STRETCH * s**3
        points = _slerp(left[:, None, :], right[:, None, :], g[None, :, None])
        lat = np.degrees(np.arcsin(np.clip(points[..., 2], -1, 1)))
        lon = np.degrees(np.arctan2(points[..., 1], points[..., 0]))
        return lon, lat

    def row_time(self, rows: np.ndarray) -> list[dt.datetime]:
        span = (self.end - self.start).total_seconds()
        return [self.start + dt.timedelta(seconds=span * float(r) / (self.rows - 1)) for r in rows]

    def fields(self, rows: slice, cols: slice) -> _LfrFields:
        key = (rows.start, rows.stop, cols.start, cols.stop)
        return lru_get(self._fields, self._lock, key, lambda: self._compute(rows, cols), size=4)

    def _compute(self, rows: slice, cols: slice) -> _LfrFields:
        r = np.arange(rows.start, rows.stop)
        c = np.arange(cols.start, cols.stop)
        step = 8  # nodes every 8 pixels (2.4 km): the image grid itself is the world grid here
        kr = np.arange(r[0] // step, r[-1] // step + 2)
        kc = np.arange(c[0] // step, c[-1] // step + 2)
        lon, lat = self.lonlat(kr * step, kc * step)
        fy, fx = (r - kr[0] * step) / step, (c - kc[0] * step) / step
        ground = fine(r, c, 1)
        sky = fine(r, c, 1, seed_of("lfr-sky", self.record.id) % 9973 + 1000, -1.0)
        land = (upsample(self.land.fraction(lon, lat), fy, fx) + F32(0.06) * ground) > 0.5
        cloud = upsample(fbm(lon, lat, 4.0, 0.05, self.sky_seed), fy, fx) + F32(0.4) * sky
        alpha = np.broadcast_to(ramp(cloud, 0.55, 0.35), land.shape)
        veg = np.clip(
            F32(0.5)
            + F32(0.3) * upsample(fbm(lon, lat, 3.0, 0.05, self.ground_seed), fy, fx)
            + F32(0.1) * ground,
            0,
            1,
        )
        relief = upsample(fbm(lon, lat, 4.0, 0.05, self.ground_seed + 1), fy, fx)
        vapour = upsample(fbm(lon, lat, 6.0, 0.2, self.sky_seed + 1), fy, fx)
        vapour = F32(42.0) - F32(0.55) * upsample(lat.astype(F32), fy, fx) + F32(3.0) * vapour
        return _LfrFields(
            land,
            alpha,
            np.broadcast_to(veg, land.shape),
            ground,
            np.broadcast_to(relief, land.shape),
            vapour,
        )

    def _image(self, name: str, rows: slice, cols: slice) -> np.ndarray:
        """Arrays on the full image grid (rows x columns)."""
        if name in ("latitude", "longitude"):
            lon, lat = self.lonlat(
                np.arange(rows.start, rows.stop), np.arange(cols.start, cols.stop)
            )
            return lat if name == "latitude" else lon
        if name == "detector_index":
            c = np.arange(cols.start, cols.stop)
            jitter = (np.arange(rows.start, rows.stop) // 97 % 3 - 1)[:, None]
            return np.clip(c[None, :] * 3700 // self.cols + jitter, 0, 3699).astype(F32)
        if name == "frame_offset":
            r = np.arange(rows.start, rows.stop)[:, None]
            c = np.arange(cols.start, cols.stop)[None, :]
            return np.rint(1.5 * np.sin(c / 740.0 * np.pi) * np.cos(r / 500.0)).astype(F32)
        f = self.fields(rows, cols)
        clear_land = f.land & (f.alpha < _CLOUDY)
        veg, tex = f.veg, f.ground
        measured = {
            "gifapar": (np.clip(0.12 + 0.62 * veg + 0.04 * tex, 0.02, 0.95), clear_land, 255.0),
            "otci": (np.clip(0.9 + 2.6 * veg + 0.15 * tex, 0.3, 6.0), clear_land, 255.0),
            "rc681": (np.clip(0.13 - 0.08 * veg + 0.01 * tex, 0.01, 0.5), clear_land, 65535.0),
            "rc865": (np.clip(0.2 + 0.2 * veg + 0.02 * tex, 0.05, 0.7), clear_land, 65535.0),
            "iwv": (f.vapour, np.ones_like(clear_land), 255.0),
        }
        base = name.removesuffix("_unc")
        if base in measured:
            values, where, fill = measured[base]
            if name.endswith("_unc"):
                values = {
                    "gifapar": 0.04 + 0.08 * values,
                    "otci": 0.1 + 0.05 * values,
                    "iwv": 0.06 * values,
                }.get(base, 0.004 + 0.03 * values)
            return np.where(where, values, fill).astype(F32)
        if name == "altitude":
            return np.where(f.land, np.clip(350 + 450 * f.relief, 0, 3000), 0).astype(F32)
        if name == "lqsf":
            flags = np.where(f.land, 4, 2).astype(np.uint32)  # land / water
            cloudy = f.alpha >= _CLOUDY
            flags[cloudy] |= 8 | 131072 | 4096 | 8192  # cloud, gifapar_class_csi, *_fail
            flags[(f.alpha > 0.05) & ~cloudy] |= 16777216  # cloud_margin
            flags[~f.land & ~cloudy] |= 65536 | 8192  # gifapar_class_ws, otci_fail
            return flags
        if name == "otci_quality_flags":
            return np.where(f.land & (f.veg < 0.2), 1, 0).astype(np.uint8)  # soil_flag_1
        raise KeyError(name)

    def _tie(self, name: str, rows: slice, cols: slice, lead: slice | None) -> np.ndarray:
        """Arrays on the tie-point grid (every 64th column) and the meteorology profiles."""
        r = np.arange(rows.start, rows.stop)
        c = np.arange(cols.start, cols.stop) * _OLCI_TIE_STEP
        lon, lat = self.lonlat(r, c)
        if name == "latitude":
            return lat
        if name == "longitude":
            return lon
        if name in ("sza", "saa"):
            times = self.row_time(r)
            zen = np.empty_like(lat)
            azi = np.empty_like(lat)
            for i, moment in enumerate(times):
                zen[i], azi[i] = solar_angles(lat[i], lon[i], moment)
            return zen if name == "sza" else np.where(azi > 180, azi - 360, azi)
        across = (c / (self.cols - 1))[None, :] * np.ones_like(lat)
        if name == "oza":  # OLCI looks 12.6 degrees west of nadir: longer view to the west
            return np.abs(-46.0 + 68.0 * across)
        if name == "oaa":
            return np.where(across < 46.0 / 68.0, 101.5, -78.5) + 0.3 * across
        field = fbm(lon, lat, 5.0, 0.3, self.sky_seed + seed_of(name))
        if name == "horizontal_wind":
            components = np.stack([-2.0 + 3.0 * field, 4.0 - 3.0 * field])
            return components[lead]
        if name == "temperature_profile":
            p = _PRESSURE_LEVELS[lead].astype(np.float64)[:, None, None]
            surface = 301.0 - 0.55 * lat + 2.0 * field
            return np.maximum(surface[None] * (p / 1000.0) ** 0.19, 212.0)
        base, spread = {
            "humidity": (70.0, 10.0),
            "sea_level_pressure": (1016.0, 5.0),
            "total_columnar_water_vapour": (18.0, 4.0),
            "total_ozone": (0.0068, 0.0003),
        }[name]
        return base + spread * field

    def values(self, spec: ArraySpec, region: Region) -> np.ndarray:
        group = spec.path.rsplit("/", 1)[0]
        name = spec.name
        if group == "conditions/instrument":
            return self._instrument(name)[region]
        if name == "pressure_level":
            return _PRESSURE_LEVELS[region]
        if spec.dims and spec.dims[-1] == "tp_columns":
            lead = region[0] if len(region) == 3 else None
            return self._tie(name, region[-2], region[-1], lead)
        return self._image(name, region[0], region[1])

    @staticmethod
    def _instrument(name: str) -> np.ndarray:
        detectors = np.arange(3700)
        camera = detectors // 740
        smile = 0.06 * (camera - 2) + 0.25 * np.sin((detectors % 740) / 740 * np.pi)
        if name == "lambda0":
            return _OLCI_BANDS[:, None] + smile[None, :] * 0.4
        if name == "fwhm":
            return _OLCI_FWHM[:, None] + 0.02 * smile[None, :]
        if name == "solar_flux":
            return _OLCI_SOLAR[:, None] * (1 - 0.002 * smile[None, :])
        # relative_spectral_covariance: strong on the diagonal, weak between neighbours
        distance = np.abs(np.subtract.outer(np.arange(21), np.arange(21)))
        return np.where(distance == 0, 1.0, 0.3 * np.exp(-distance.astype(np.float64)))


# ==========================================================================
# Public entry points


_SCENE_TYPES: dict[str, Callable[[ProductRecord], Any]] = {
    "S02MSIL2A": S2Scene,
    "S01SIWOCN": OcnScene,
    "S03OLCLFR": LfrScene,
}
_scenes: dict[str, Any] = {}
_scenes_lock = threading.Lock()


def scene_for(record: ProductRecord) -> Any:
    """The (memoised) scene of ``record``."""
    with _scenes_lock:
        scene = _scenes.get(record.id)
        if scene is None:
            scene = _scenes[record.id] = _SCENE_TYPES[record.product_type](record)
        return scene


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


_TCI_CHUNK = {10: 1830, 20: 915, 60: 305}


def quicklook_tci(record: ProductRecord, resolution: int) -> np.ndarray:
    """The whole true-colour quicklook (3, n, n) uint8 at 10, 20 or 60 m.

    The same bytes as ``quality/l2a_quicklook/r{resolution}m/tci`` in the
    store (built chunk by chunk, as the store does).
    """
    if record.product_type != "S02MSIL2A":
        raise ValueError(f"{record.id} is not a Sentinel-2 L2A product")
    if resolution not in _TCI_CHUNK:
        raise ValueError(f"resolution must be 10, 20 or 60 m, not {resolution!r}")
    scene = scene_for(record)
    size, step = S2_TILE_SIZE_M // resolution, _TCI_CHUNK[resolution]
    out = np.empty((3, size, size), dtype=np.uint8)
    for r0 in range(0, size, step):
        for c0 in range(0, size, step):
            rows, cols = slice(r0, min(r0 + step, size)), slice(c0, min(c0 + step, size))
            out[:, rows, cols] = scene.tci(resolution, rows, cols)
    return out
