"""Deterministic noise: the raw material of every scene.

A scene must look natural (structure at every scale), give the same bytes on every request and
be cheap for any block of pixels. numpy gives white noise only and no dependency of the project
makes coherent noise, hence one family in two forms: `fbm` (hashed lattice noise over octaves, a
pure function of world coordinates and a seed) for the large scales, evaluated on coarse nodes,
and `pattern` (the same kind of noise made once by FFT as a periodic tile and sampled at global
pixel indices) for the fine ones. Also here, as every scene needs them: `scene_values`
(published typical values), `upsample`, `ramp` and `corner_lonlat`.
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
PERIOD = 1020  # pixels of the finest grid per pattern tile: divisible by 2, 6 (20, 60 m blocks)
DETAIL_BLOCK = 6  # blocks of the finest grid that the coarsest one averages (60 m over 10 m)


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
    for shift, factor in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        h ^= h >> np.uint32(shift)
        h *= np.uint32(factor)
    h ^= h >> np.uint32(16)
    return (h >> np.uint32(8)).astype(F32) * F32(2.0 / (1 << 24)) - F32(1.0)


def fbm(
    px: np.ndarray, py: np.ndarray, largest: float, smallest: float, seed: int, gain: float = 0.55
) -> np.ndarray:
    """Fractal noise of about unit standard deviation, octaves from ``largest`` to ``smallest``.

    Each octave is lattice noise, smoothly interpolated, with half the lattice spacing and
    ``gain`` times the amplitude of the previous one, on a lattice offset so that lattice points
    of different octaves never coincide. 0.40 is one octave's measured standard deviation.
    """
    total = np.zeros(np.shape(px), dtype=F32)
    norm, amplitude, spacing, octave = 0.0, 1.0, float(largest), 0
    while spacing >= smallest * 0.999:
        offset = spacing * (0.318 + 0.271 * octave)
        fx = (np.asarray(px, dtype=np.float64) + offset) / spacing
        fy = (np.asarray(py, dtype=np.float64) - offset) / spacing
        ix, iy = np.floor(fx).astype(np.int64), np.floor(fy).astype(np.int64)
        sx, sy = ((f - np.floor(f)).astype(F32) for f in (fx, fy))
        sx, sy = sx * sx * (3 - 2 * sx), sy * sy * (3 - 2 * sy)
        v00, v10, v01, v11 = (
            lattice(ix + dx, iy + dy, seed + 7919 * octave) for dy in (0, 1) for dx in (0, 1)
        )
        top, bottom = v00 + sx * (v10 - v00), v01 + sx * (v11 - v01)
        total += F32(amplitude) * (top + sy * (bottom - top))
        norm += amplitude * amplitude
        amplitude *= gain
        spacing /= 2
        octave += 1
    return total / F32(math.sqrt(norm) * 0.40)


@functools.lru_cache(maxsize=32)
def pattern(name: str, factor: int = 1, slope: float = 1.3, detail: bool = False) -> np.ndarray:
    """A periodic noise tile of unit variance, seen by a sensor ``factor`` times coarser.

    FFT synthesis: white noise filtered to an amplitude spectrum k^-slope (1.3 looks natural;
    0 is white noise, the sensor's) between 2 and about 120 pixels; larger scales come from
    `fbm`. ``detail`` removes each 6 x 6 block's mean: ground finer than the coarsest pixel
    (stones, wave facets) that gives 10 and 20 m pixels their variance and averages out in a
    60 m pixel, as on the ground, instead of leaving noise that 8-bit quicklooks would store.
    """
    if factor > 1:  # block means: the same ground seen by a coarser sensor
        base = pattern(name, 1, slope, detail)
        n = PERIOD // factor
        return base.reshape(n, factor, n, factor).mean(axis=(1, 3), dtype=F32)
    rng = np.random.default_rng(seed_of("pattern", name))
    spectrum = np.fft.rfft2(rng.standard_normal((PERIOD, PERIOD)))
    k = np.hypot(np.fft.fftfreq(PERIOD)[:, None], np.fft.rfftfreq(PERIOD)[None, :])
    k[0, 0] = 1.0
    gain = k**-slope * (1 - np.exp(-((k * 120) ** 4))) if slope else np.ones_like(k)
    gain[0, 0] = 0.0
    tile = np.fft.irfft2(spectrum * gain, s=(PERIOD, PERIOD))
    if detail:
        n, b = PERIOD // DETAIL_BLOCK, DETAIL_BLOCK
        blocks = tile.reshape(n, b, n, b)
        tile = (blocks - blocks.mean(axis=(1, 3), keepdims=True)).reshape(PERIOD, PERIOD)
    return (tile / tile.std()).astype(F32)


def sample(tile: np.ndarray, rows: np.ndarray, cols: np.ndarray, shift: int = 0) -> np.ndarray:
    """``tile`` at global pixel indices (1-D rows and columns), shifted by ``shift``, wrapped."""
    period = tile.shape[0]
    return tile[
        np.ix_((np.asarray(rows) + shift) % period, (np.asarray(cols) + 2 * shift) % period)
    ]


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
    """0 below ``start``, 1 above ``start + width``, linear between (in place on float32)."""
    values = np.asarray(values, dtype=F32)
    values -= F32(start)
    values *= F32(1 / width)
    return np.clip(values, 0, 1, out=values if values.ndim else None)


def corner_lonlat(corners: np.ndarray, along: Any, across: Any) -> tuple[Any, Any]:
    """Lon/lat bilinear between a swath's four corners, at fractions of its length and width.

    ``corners`` (lon, lat) run: first line's first and last pixel, last line's last and first;
    ``along`` is 0 on the first line, ``across`` 0 at the first pixel.
    """
    c = np.asarray(corners[:4], dtype=np.float64)
    lon, lat = (
        (1 - along) * ((1 - across) * c[0, i] + across * c[1, i])
        + along * ((1 - across) * c[3, i] + across * c[2, i])
        for i in (0, 1)
    )
    return lon, lat
