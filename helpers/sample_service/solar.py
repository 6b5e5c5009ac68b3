"""Where the sun stands: the one solar-position model of the sample service.

The Zarr angle arrays of a Sentinel-2 product and the ``MTD_TL.xml`` of its SAFE copy must state
the same sun angles, so both come from here. NOAA's low-accuracy formulas (about 0.1 degree,
"General Solar Position Calculations", NOAA Global Monitoring Division) suffice for plausible
metadata; no solar-position library is among the dependencies.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import numpy as np

from . import timefmt
from .catalog import ProductRecord, lonlat_transformer

# NOAA's Fourier series in the fractional year: (constant, (cos k, sin k) for k = 1, 2, ...).
_EQUATION_OF_TIME = (0.000075, (0.001868, -0.032077), (-0.014615, -0.040849))
_DECLINATION = (0.006918, (-0.399912, 0.070257), (-0.006758, 0.000907), (-0.002697, 0.00148))

ANGLE_GRID_STEP_M = 5000.0
ANGLE_GRID_SIZE = 23
"""A Sentinel-2 tile's angle grids: 23 x 23 points 5 km apart from its upper-left corner."""


def _series(terms: tuple[Any, ...], gamma: float) -> float:
    total = terms[0]  # summed term by term, in the order NOAA writes them
    for k, (cos_k, sin_k) in enumerate(terms[1:], start=1):
        total = total + cos_k * np.cos(k * gamma) + sin_k * np.sin(k * gamma)
    return total


def solar_angles(lat: Any, lon: Any, when: dt.datetime) -> tuple[np.ndarray, np.ndarray]:
    """Sun zenith and azimuth (degrees, azimuth clockwise from north) at ``when`` (UTC)."""
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    hours = when.hour + when.minute / 60 + when.second / 3600
    gamma = 2 * np.pi / 365 * (when.timetuple().tm_yday - 1 + (hours - 12) / 24)
    eqtime, decl = 229.18 * _series(_EQUATION_OF_TIME, gamma), _series(_DECLINATION, gamma)
    true_solar_minutes = hours * 60 + eqtime + 4 * np.asarray(lon, dtype=np.float64)
    hour_angle = np.radians(true_solar_minutes / 4 - 180)
    cos_zen = np.sin(lat_r) * np.sin(decl) + np.cos(lat_r) * np.cos(decl) * np.cos(hour_angle)
    zenith = np.degrees(np.arccos(np.clip(cos_zen, -1, 1)))
    east = np.cos(hour_angle) * np.sin(lat_r) - np.tan(decl) * np.cos(lat_r)
    return zenith, np.mod(np.degrees(np.arctan2(np.sin(hour_angle), east)) + 180.0, 360.0)


def tile_angle_grid(record: ProductRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, lon/lat stack) of a tile's angle grid: UTM metres and degrees (2, 23, 23)."""
    assert record.utm_origin is not None and record.epsg is not None
    steps = np.arange(ANGLE_GRID_SIZE) * ANGLE_GRID_STEP_M
    gx, gy = record.utm_origin[0] + steps, record.utm_origin[1] - steps
    lon, lat = lonlat_transformer(record.epsg).transform(*np.meshgrid(gx, gy))
    return gx, gy, np.stack([lon, lat])


def tile_sun_angles(record: ProductRecord) -> tuple[np.ndarray, np.ndarray]:
    """Sun zenith and azimuth (degrees, 23 x 23) over a tile at its sensing start (Zarr, SAFE)."""
    _, _, (lon, lat) = tile_angle_grid(record)
    return solar_angles(lat, lon, timefmt.parse(record.start_datetime))


@functools.lru_cache(maxsize=256)
def mean_sun_angles(record: ProductRecord) -> tuple[float, float]:
    """Mean sun zenith and azimuth (degrees) over a tile: ``other_metadata`` and ``view:sun_*``."""
    zenith, azimuth = tile_sun_angles(record)
    return float(zenith.mean()), float(azimuth.mean())
