"""Deterministic noise and textures: the raw material of every scene.

A scene must look natural (structure at every scale), give the same bytes on every request and
be cheap for any block of pixels. numpy's generators give white noise only and no dependency of
the project makes coherent noise, hence: `fbm` (hashed lattice noise over octaves, a pure
function of world coordinates and a seed) for the large scales, and periodic patterns made
once and sampled at global pixel indices for the fine ones (`fine`, `white`, `detail`). Also
here, as every scene needs them: `scene_values` (published typical values) and `corner_lonlat`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

F32 = np.float32
CLOUDY = 0.3
"""Cloud opacity from which a pixel counts as cloud (SCL 8, 9, 10; OLCI cloud flags)."""
Region = tuple[slice, ...]  # the part of an array one chunk covers


@functools.cache
def scene_values() -> dict[str, Any]:
    """Typical published values the scenes build on (``templates/scene_values.json``)."""
    path = Path(__file__).parents[1] / "templates" / "scene_values.json"
    return json.loads(path.read_text(encoding="utf-8"))


def seed_of(*parts: object) -> int:
    """A 32-bit seed derived from names (stable across runs and platforms)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def lattice(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
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


# Standard deviation of one octave of `_value_noise` (measured): `fbm` divides by it so that
# amplitudes elsewhere read as multiples of one sigma.
_VALUE_NOISE_STD = 0.40


def _value_noise(px: np.ndarray, py: np.ndarray, spacing: float, seed: int) -> np.ndarray:
    """Smoothly interpolated lattice noise with lattice ``spacing`` (same unit as px, py)."""
    fx = np.asarray(px, dtype=np.float64) / spacing
    fy = np.asarray(py, dtype=np.float64) / spacing
    ix, iy = np.floor(fx), np.floor(fy)
    tx, ty = (fx - ix).astype(F32), (fy - iy).astype(F32)
    sx, sy = tx * tx * (3 - 2 * tx), ty * ty * (3 - 2 * ty)
    ix, iy = ix.astype(np.int64), iy.astype(np.int64)
    v00, v10 = lattice(ix, iy, seed), lattice(ix + 1, iy, seed)
    v01, v11 = lattice(ix, iy + 1, seed), lattice(ix + 1, iy + 1, seed)
    top = v00 + sx * (v10 - v00)
    bottom = v01 + sx * (v11 - v01)
    return top + sy * (bottom - top)


def fbm(
    px: np.ndarray, py: np.ndarray, largest: float, smallest: float, seed: int, gain: float = 0.55
) -> np.ndarray:
    """Fractal noise of about unit standard deviation, octaves from ``largest`` to ``smallest``.

    Each octave has half the lattice spacing and ``gain`` times the amplitude of the previous
    one, and an offset lattice, so that lattice points of different octaves never coincide.
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


# Periods in pixels of the finest grid (10 m for S2), divisible by 6 so that 20 m and 60 m
# block means tile seamlessly; the two textures' periods differ, so their sum repeats only
# every few hundred kilometres.
_TEXTURE_PERIODS = (510, 522)
_NOISE_PERIOD = 1020
# Blocks of the finest grid that the coarsest grid averages (60 m over 10 m for S2).
DETAIL_BLOCK = 6


def _block_mean(base: np.ndarray, factor: int) -> np.ndarray:
    """Means over factor x factor blocks: the same pattern seen by a coarser sensor."""
    size = base.shape[0] // factor
    return base.reshape(size, factor, size, factor).mean(axis=(1, 3), dtype=F32)


@functools.lru_cache(maxsize=64)
def texture(which: int, factor: int = 1) -> np.ndarray:
    """A periodic fractal texture (unit variance at ``factor`` 1), block-averaged by ``factor``.

    FFT synthesis of white noise filtered to an amplitude spectrum k^-1.3 (natural-looking)
    between 2 and about 120 pixels; larger scales come from `fbm`.
    """
    if factor > 1:
        return _block_mean(texture(which), factor)
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
    """Periodic white noise, the sensor's (unit variance at ``factor`` 1), block-averaged."""
    if factor > 1:
        return _block_mean(white(), factor)
    rng = np.random.default_rng(seed_of("sensor-noise"))
    return rng.standard_normal((_NOISE_PERIOD, _NOISE_PERIOD), dtype=F32)


@functools.lru_cache(maxsize=8)
def detail(factor: int = 1) -> np.ndarray:
    """Periodic white noise whose every 6 x 6 block sums to zero, block-averaged by ``factor``.

    Ground detail finer than the coarsest pixel (stones, shrubs, wave facets): it gives 10 m
    and 20 m pixels the variance real ones have and averages out exactly in a 60 m pixel, as on
    the ground, instead of leaving a residue that 8-bit quicklooks would turn into noise.
    Offsets into it must be multiples of the block to keep blocks on the 60 m grid.
    """
    if factor > 1:
        return _block_mean(detail(), factor)
    rng = np.random.default_rng(seed_of("sub-pixel-detail"))
    n, b = _NOISE_PERIOD // DETAIL_BLOCK, DETAIL_BLOCK
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

    Chunks ask for consecutive indices: a few rectangular copies of the periodic texture, which
    is several times faster than ``take(..., mode="wrap")`` per axis (and runs for several
    textures per chunk); other index sets take the general path.
    """
    period = texture.shape[0]
    rows, cols = np.asarray(rows), np.asarray(cols)
    if not all(a.ndim == 1 and a.size > 0 and (np.diff(a) == 1).all() for a in (rows, cols)):
        return texture.take(rows, axis=0, mode="wrap").take(cols, axis=1, mode="wrap")
    out = np.empty((rows.size, cols.size), dtype=texture.dtype)
    col_runs = _wrapped_runs(int(cols[0]), cols.size, period)
    for rs, rt, rn in _wrapped_runs(int(rows[0]), rows.size, period):
        for cs, ct, cn in col_runs:
            out[rt : rt + rn, ct : ct + cn] = texture[rs : rs + rn, cs : cs + cn]
    return out


def fine(
    rows: np.ndarray, cols: np.ndarray, factor: int, offset: int = 0, sign: float = 1.0
) -> np.ndarray:
    """The sum (``sign`` > 0) or difference of the two textures, shifted by ``offset`` pixels.

    Offsets and signs give independent-looking patterns (ground, clouds) from two textures.
    ``offset`` counts pixels of the finest grid and should be a multiple of ``factor``, so that
    a coarse pixel sees the mean of the fine pixels it covers.
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

    Separable (rows x columns) so it costs a few passes over the output. A constant field comes
    back as a scalar, which keeps open-ocean chunks cheap.
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

    In place on a float32 array (callers pass temporaries): ``np.clip`` is several times slower
    than two in-place comparisons.
    """
    if np.ndim(values) == 0 or getattr(values, "dtype", None) != F32:
        return np.clip((np.asarray(values, dtype=F32) - F32(start)) / F32(width), 0, 1)
    values -= F32(start)
    values *= F32(1 / width)
    np.maximum(values, 0, out=values)
    np.minimum(values, 1, out=values)
    return values


def corner_lonlat(corners: np.ndarray, along: Any, across: Any) -> tuple[Any, Any]:
    """Lon/lat bilinear between a swath's four corners, at fractions of its length and width.

    ``corners`` (lon, lat) run: first line's first and last pixel, last line's last and first;
    ``along`` is 0 on the first line, ``across`` 0 at the first pixel.
    """
    (lon0, lat0), (lon1, lat1), (lon2, lat2), (lon3, lat3) = corners[:4]
    lon = (1 - along) * ((1 - across) * lon0 + across * lon1) + along * (
        (1 - across) * lon3 + across * lon2
    )
    lat = (1 - along) * ((1 - across) * lat0 + across * lat1) + along * (
        (1 - across) * lat3 + across * lat2
    )
    return lon, lat
