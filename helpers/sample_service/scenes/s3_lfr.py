"""The synthetic land products of a Sentinel-3 OLCI full-resolution (LFR) swath.

Pixel positions follow great circles between the record's swath corners, with OLCI's wider
pixels towards the swath edges, so the tutorial product's first pixel is where the published
one is. Land, cloud and vegetation fields drive GIFAPAR, OTCI, the rectified reflectances and
the quality flags: the land products are valid over clear land only, fill values elsewhere.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np

from .. import timefmt
from ..catalog import ProductRecord
from ..products import ArraySpec
from ..solar import solar_angles
from .landmask import RecordLand
from .texture import (
    CLOUDY,
    F32,
    Region,
    fbm,
    pattern,
    ramp,
    sample,
    scene_values,
    seed_of,
    upsample,
)

PRODUCT_TYPE = "S03OLCLFR"


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
_OLCI_BANDS = np.array(scene_values()["olci_band_centres"])
_OLCI_FWHM = np.array(scene_values()["olci_band_widths"])
_OLCI_SOLAR = np.array(scene_values()["olci_solar_flux"])
_PRESSURE_LEVELS = np.array(scene_values()["pressure_levels"])


class LfrScene(RecordLand):
    """The synthetic land products of one Sentinel-3 OLCI full-resolution swath."""

    def __init__(self, record: ProductRecord) -> None:
        assert record.swath_corners is not None and record.swath_shape is not None
        self.record = record
        self.rows, self.cols = record.swath_shape
        corners = np.asarray(record.swath_corners, dtype=np.float64)
        self.ffp, self.flp, self.llp, self.lfp = _unit_vectors(corners[:, 0], corners[:, 1])
        self.sky_seed = seed_of("sky", record.id)
        self.ground_seed = seed_of("ground", "lonlat")  # one Earth for every swath
        self.start = timefmt.parse(record.start_datetime)
        self.end = timefmt.parse(record.end_datetime)
        self._fields = functools.lru_cache(maxsize=4)(self._compute)

    @functools.cached_property
    def cloud_start(self) -> float:
        """Where cloud opacity starts rising: 0.55, or what gives the record's cloud cover.

        With ``cloud_cover`` in the record, the cloud field is sampled on a 64 x 64 grid of the
        swath (texture included) and the quantile puts that share of pixels at or above the
        opacity counted as cloud.
        """
        if self.record.cloud_cover is None:
            return 0.55
        r = np.linspace(0, self.rows - 1, 64).astype(int)
        c = np.linspace(0, self.cols - 1, 64).astype(int)
        lon, lat = self.lonlat(r, c)
        field = self.cloud_field(lon, lat) + F32(0.4) * self.sky(r, c)
        share = self.record.cloud_cover / 100
        return float(np.quantile(field, 1 - share)) - CLOUDY * 0.35

    def sky(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return sample(pattern("sky"), rows, cols, self.sky_seed % 9973 + 1000)

    def cloud_field(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Large-scale cloud field at lon/lat, lowered inside the record's ``clear_box``.

        ``scene.clear_box`` ([west, south, east, north], degrees) names where a published
        render shows the ground: the field drops by two standard deviations inside it, with
        edges softened over about half a degree, so the clear share the cloud cover leaves
        falls there first (the tutorial's product: clear over northern Spain, cloud elsewhere).
        """
        field = fbm(lon, lat, 4.0, 0.05, self.sky_seed)
        box = self.record.scene.get("clear_box")
        if box is None:
            return field
        west, south, east, north = (float(v) for v in box)

        def inside(value: np.ndarray, low: float, high: float) -> np.ndarray:
            rise = 1 / (1 + np.exp(-(value - low) / 0.25))
            return rise / (1 + np.exp((value - high) / 0.25))

        clear = inside(lon, west, east) * inside(lat, south, north)
        return (field - 2.0 * clear).astype(F32)

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

    def fields(self, rows: slice, cols: slice) -> dict[str, np.ndarray]:
        return self._fields(rows.start, rows.stop, cols.start, cols.stop)

    def _compute(self, r0: int, r1: int, c0: int, c1: int) -> dict[str, np.ndarray]:
        """Land, cloud opacity, vegetation, texture, relief and water vapour of a block."""
        r, c = np.arange(r0, r1), np.arange(c0, c1)
        step = 8  # nodes every 8 pixels (2.4 km): the image grid itself is the world grid here
        kr = np.arange(r[0] // step, r[-1] // step + 2)
        kc = np.arange(c[0] // step, c[-1] // step + 2)
        lon, lat = self.lonlat(kr * step, kc * step)
        fy, fx = (r - kr[0] * step) / step, (c - kc[0] * step) / step
        shape = (r.size, c.size)

        def smooth(nodes: np.ndarray) -> np.ndarray:
            return np.broadcast_to(upsample(nodes.astype(F32), fy, fx), shape)

        ground = sample(pattern("ground"), r, c)
        cloud = smooth(self.cloud_field(lon, lat)) + F32(0.4) * self.sky(r, c)
        vapour = (
            F32(42.0)
            - F32(0.55) * smooth(lat)
            + F32(3.0) * smooth(fbm(lon, lat, 6.0, 0.2, self.sky_seed + 1))
        )
        veg = F32(0.5) + F32(0.3) * smooth(fbm(lon, lat, 3.0, 0.05, self.ground_seed))
        return {
            "land": (smooth(self.land.fraction(lon, lat)) + F32(0.06) * ground) > 0.5,
            "alpha": ramp(cloud, self.cloud_start, 0.35),
            "veg": np.clip(veg + F32(0.1) * ground, 0, 1),
            "ground": ground,
            "relief": smooth(fbm(lon, lat, 4.0, 0.05, self.ground_seed + 1)),
            "vapour": vapour,
        }

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
        land, alpha, veg, tex = f["land"], f["alpha"], f["veg"], f["ground"]
        clear_land = land & (alpha < CLOUDY)
        measured = {
            "gifapar": (np.clip(0.12 + 0.62 * veg + 0.04 * tex, 0.02, 0.95), clear_land, 255.0),
            "otci": (np.clip(0.9 + 2.6 * veg + 0.15 * tex, 0.3, 6.0), clear_land, 255.0),
            "rc681": (np.clip(0.13 - 0.08 * veg + 0.01 * tex, 0.01, 0.5), clear_land, 65535.0),
            "rc865": (np.clip(0.2 + 0.2 * veg + 0.02 * tex, 0.05, 0.7), clear_land, 65535.0),
            "iwv": (f["vapour"], np.ones_like(clear_land), 255.0),
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
            return np.where(land, np.clip(350 + 450 * f["relief"], 0, 3000), 0).astype(F32)
        if name == "lqsf":
            flags = np.where(land, 4, 2).astype(np.uint32)  # land / water
            cloudy = alpha >= CLOUDY
            flags[cloudy] |= 8 | 131072 | 4096 | 8192  # cloud, gifapar_class_csi, *_fail
            flags[(alpha > 0.05) & ~cloudy] |= 16777216  # cloud_margin
            flags[~land & ~cloudy] |= 65536 | 8192  # gifapar_class_ws, otci_fail
            return flags
        if name == "otci_quality_flags":
            return np.where(land & (veg < 0.2), 1, 0).astype(np.uint8)  # soil_flag_1
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
            span = (self.end - self.start).total_seconds() / (self.rows - 1)
            zen, azi = np.empty_like(lat), np.empty_like(lat)
            for i, row in enumerate(r):  # each row at its own time
                moment = self.start + dt.timedelta(seconds=span * float(row))
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
        base, spread = scene_values()["s3_meteorology"][name]
        return base + spread * field

    def values(self, spec: ArraySpec, region: Region) -> np.ndarray:
        """Decoded values, or the stored integers where the array is scaled (CPM 2.6.2 on)."""
        values = self._decoded(spec, region)
        scale = spec.attrs.get("scale_factor")
        if spec.dtype.kind not in "iu" or not scale:
            return values
        # Encode as the writer does; fills (and anything the type cannot hold) -> fill value.
        encoded = np.rint((values - spec.attrs.get("add_offset", 0.0)) / scale)
        limits = np.iinfo(spec.dtype)
        bad = ~np.isfinite(encoded) | (encoded < limits.min) | (encoded > limits.max)
        encoded[bad] = spec.fill_value
        return encoded

    def _decoded(self, spec: ArraySpec, region: Region) -> np.ndarray:
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
