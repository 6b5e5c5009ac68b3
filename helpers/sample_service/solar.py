"""Where the sun stands: the one solar-position model of the sample service.

The Zarr angle arrays of a Sentinel-2 product and the ``MTD_TL.xml`` of its SAFE copy must state
the same sun angles, so both come from here. NOAA's low-accuracy formulas (about 0.1 degree)
suffice for plausible metadata; no solar-position library is among the dependencies.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import numpy as np

from . import timefmt
from .catalog import ProductRecord, lonlat_transformer


def solar_angles(lat: Any, lon: Any, when: dt.datetime) -> tuple[np.ndarray, np.ndarray]:
    """Sun zenith and azimuth (degrees, azimuth clockwise from north) at ``when`` (UTC)."""
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    lon_d = np.asarray(lon, dtype=np.float64)
    day = when.timetuple().tm_yday
    hours = when.hour + when.minute / 60 + when.second / 3600
    gamma = 2 * np.pi / 365 * (day - 1 + (hours - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    decl = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    true_solar_minutes = hours * 60 + eqtime + 4 * lon_d
    hour_angle = np.radians(true_solar_minutes / 4 - 180)
    cos_zen = np.sin(lat_r) * np.sin(decl) + np.cos(lat_r) * np.cos(decl) * np.cos(hour_angle)
    zenith = np.arccos(np.clip(cos_zen, -1, 1))
    azimuth = (
        np.degrees(
            np.arctan2(
                np.sin(hour_angle),
                np.cos(hour_angle) * np.sin(lat_r) - np.tan(decl) * np.cos(lat_r),
            )
        )
        + 180.0
    )
    return np.degrees(zenith), np.mod(azimuth, 360.0)


ANGLE_GRID_STEP_M = 5000.0
ANGLE_GRID_SIZE = 23
"""A Sentinel-2 tile's angle grids: 23 x 23 points 5 km apart from its upper-left corner."""


def tile_angle_grid(record: ProductRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, lon/lat stack) of a tile's angle grid: UTM metres and degrees (2, 23, 23)."""
    assert record.utm_origin is not None and record.epsg is not None
    steps = np.arange(ANGLE_GRID_SIZE) * ANGLE_GRID_STEP_M
    x0, y0 = record.utm_origin
    gx, gy = x0 + steps, y0 - steps
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
