"""The synthetic wind field of a Sentinel-1 IW OCN product (owi, rvl and osw).

The swath is placed by the record's four corners; winds are smooth fractal fields recentred on
what the tutorial's product shows (directions 33-91 degrees, mean 65, moderate speeds), with
fill values over land and along a ragged strip at far range, as in the real product.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import numpy as np
from scipy import ndimage

from .. import timefmt
from ..catalog import ProductRecord
from ..products import ArraySpec
from .landmask import RecordLand
from .texture import Region, corner_lonlat, fbm, seed_of

PRODUCT_TYPE = "S01SIWOCN"


class OcnScene(RecordLand):
    """The synthetic wind field of one Sentinel-1 IW OCN product (owi, rvl, osw)."""

    def __init__(self, record: ProductRecord) -> None:
        assert record.swath_corners is not None and record.swath_shape is not None
        self.record = record
        self.corners = np.asarray(record.swath_corners, dtype=np.float64)
        self.n_az, self.n_rg = record.swath_shape
        self.seed = seed_of("ocn", record.id)
        self.start = timefmt.parse(record.start_datetime)
        self.end = timefmt.parse(record.end_datetime)

    def lonlat(self, fa: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lon/lat at fractional azimuth (0 first line) and range (0 first pixel) positions.

        Bilinear between the four swath corners: over an OCN swath (about 250 x 170 km) the
        difference to a geodesic grid is far below a cell.
        """
        return corner_lonlat(self.corners, fa, fr)

    def _wind(self, lon: np.ndarray, lat: np.ndarray, fr: Any) -> tuple[np.ndarray, ...]:
        """Wind direction (deg, from) and speed (m/s): smooth, like the tutorial's product.

        The tutorial's swath shows directions of 33-91 degrees (mean 65); two broad fractal
        fields, recentred on the owi grid (mean 0, spread 1) and scaled to those values, with
        moderate speeds (mostly 4-11 m/s), match it.
        """
        turn, gust = (
            (fbm(lon, lat, 2.5, 0.08, self.seed + i) - mean) / std
            for i, (mean, std) in enumerate(self._wind_norm)
        )
        direction = np.mod(65.0 + 10.0 * turn + 6.0 * (fr - 0.5), 360.0)
        return direction, np.clip(7.5 + 1.8 * gust, 0.5, 30.0)

    @functools.cached_property
    def _wind_norm(self) -> list[tuple[float, float]]:
        """Mean and spread of the two raw wind fields over the owi grid."""
        _, _, lon, lat = self._owi_grid
        fields = (fbm(lon, lat, 2.5, 0.08, self.seed + i) for i in (0, 1))
        return [(float(f.mean()), float(f.std())) for f in fields]

    @functools.cached_property
    def _owi_grid(self) -> tuple[np.ndarray, ...]:
        """Fractional azimuth and range, longitude and latitude of the owi wind cells."""
        fa = (np.arange(self.n_az) / (self.n_az - 1))[:, None]
        fr = (np.arange(self.n_rg) / (self.n_rg - 1))[None, :]
        return (fa, fr, *self.lonlat(fa, fr))

    @functools.cached_property
    def owi(self) -> dict[str, np.ndarray]:
        """Every owi array (azimuth x range wind-cell grid), computed once."""
        fa, fr, lon, lat = self._owi_grid
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
