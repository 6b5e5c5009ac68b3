"""The synthetic scene of a Sentinel-2 L2A tile: sea, land, snow, clouds and shadows.

Fields live in the tile's UTM coordinates, so every band and resolution is cut from one picture:
world-aligned 240 m nodes carry the large scales (land from the real mask, vegetation, relief,
clouds as cloudy as the record says, their shadows), noise patterns the fine ones; each band is
a weighted sum of material spectra (``scene_values.json``), and SCL, quicklook, masks, angles and
meteorology derive from the same fields. The orbit's swath edge leaves some tiles partly without
data, as real ones.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from .. import timefmt
from ..catalog import S2_TILE_SIZE_M, ProductRecord, is_arctic, lonlat_transformer
from ..products import ArraySpec, meteo_grid
from ..solar import solar_angles, tile_angle_grid, tile_sun_angles
from .landmask import LandGrid, RecordLand
from .texture import (
    CLOUDY,
    DETAIL_BLOCK,
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

PRODUCT_TYPE = "S02MSIL2A"

S2_BANDS = tuple(
    f"b{n}" for n in ["01", "02", "03", "04", "05", "06", "07", "08", "8a", "09", "10", "11", "12"]
)
# Noise amplitudes, tuned so that compressed chunks come near the real ones: a 10 m band chunk
# a few MB, the 60 m quicklook of an Arctic coast under a megabyte (the seed measured 0.63 MB of
# quicklook chunks on the real product). Blosc-zstd has no delta filter, so a uint8 quicklook
# compresses well only where values repeat; one 8-bit step is 0.25 / 254 ~ 0.001 of
# reflectance, and anything varying from 60 m pixel to pixel by a sizeable part of it costs
# bytes. Detail finer than 60 m (`pattern(detail=True)`) averages out there, as on real ground.
_SENSOR_NOISE = 0.0004  # reflectance, white, at 10 m (a 60 m mean has a sixth of it)
_GLINT = 0.0012  # reflectance, sub-60 m wave facets over water
_SEA_SWELL = 0.03  # relative, kilometre-scale brightness of the sea (plumes, slicks)
_LAND_DETAIL = 0.05  # relative, sub-60 m brightness of the ground
_LAND_PATCHES = 0.06  # relative, ground brightness from 480 m to 3 km
_LAND_TEXTURE = 0.01  # relative, ground brightness texture from 120 m to 1.2 km
_VEG_TEXTURE = 0.015  # vegetation cover texture from 120 m to 1.2 km
_SNOW_LINE = 0.5  # relief (in sigmas) from which snow lies in the Arctic in early summer
_SNOW_INLAND = 3.0  # relief added from the coast to the plateaus (sigmas)
_NODE_SPACING = 240.0  # metres between nodes of the coarse fields (a multiple of 60)
_Y_REF = 10_000_000  # northing near which global row indices count (see `S2Scene.row_ref`)
_COS_INCLINATION = 0.1495  # |cos 98.6 deg|, the Sentinel-2 orbit's inclination
_SWATH_WIDTH = 290_000.0
_DETECTOR_WIDTH = _SWATH_WIDTH / 12
_CLOUD_SOFTNESS = 0.4  # width (in sigmas of the cloud field) of a cloud's edge
_CLOUD_TEXTURE = 0.02
_CLOUD_HEIGHT = 2500.0  # metres: sets the offset between a cloud and its shadow
# SCL class by cloud opacity (lowest opacity first): unclassified haze, cirrus, medium, high.
_SCL_BY_OPACITY = ((0.15, 7), (CLOUDY, 10), (0.45, 8), (0.75, 9))

NodeGrid = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""A block's coarse node grid: node x, node y, and each pixel's fractional node row, column."""


@functools.cache
def spectra() -> dict[str, np.ndarray]:
    return {m: np.array(v, dtype=F32) for m, v in scene_values()["s2_spectra"].items()}


@dataclass
class _S2Fields:
    """Everything about one block of pixels at one resolution that the bands share."""

    valid: np.ndarray | None  # None: every pixel is inside the swath
    alpha: Any  # cloud opacity 0..1
    shade: Any  # 1, or less in cloud shadow
    water: Any  # 1 water, 0 land
    snow: Any
    weights: dict[str, Any]  # material -> weight in the band sum

    def rho(self, band: str) -> Any:
        """Noise-free reflectance of ``band``: the materials' spectra, weighted."""
        b = S2_BANDS.index(band)
        return sum(w * spectra()[m][b] for m, w in self.weights.items())


class S2Scene(RecordLand):
    """The synthetic scene of one Sentinel-2 L2A tile on one date."""

    def __init__(self, record: ProductRecord) -> None:
        assert record.epsg is not None and record.utm_origin is not None
        self.record = record
        self.x0, self.y0 = (float(v) for v in record.utm_origin)
        self.to_lonlat = lonlat_transformer(record.epsg)
        self.ground_seed = seed_of("ground", record.epsg)  # the same ground on every date
        # One sky per datatake: neighbouring tiles of one pass share their clouds.
        self.sky_seed = seed_of("sky", record.platform, record.start_datetime)
        # In 10 m pixels, a multiple of 6 so that 20 and 60 m see the same shift.
        self.sky_offset = 6 * (self.sky_seed % 9973 + 1000)
        # Global row 0 sits at a northing 60 m-aligned with the tile's top edge, so a 60 m pixel
        # covers exactly 6 x 6 global 10 m pixels (S2 tiles' x origins are multiples of 60 m).
        self.row_ref = _Y_REF + (int(self.y0) - _Y_REF) % 60
        self.col_ref = int(self.x0) % 60
        self.start = timefmt.parse(record.start_datetime)
        half = S2_TILE_SIZE_M / 2
        lon, lat = self.to_lonlat.transform(self.x0 + half, self.y0 - half)
        self.centre_lat = float(lat)
        zenith, azimuth = (math.radians(float(a)) for a in solar_angles(lat, lon, self.start))
        # A shadow falls away from the sun: the shadow at p is cast by the cloud at p + s.
        reach = _CLOUD_HEIGHT * math.tan(zenith)
        self.shadow_shift = (reach * math.sin(azimuth), reach * math.cos(azimuth))
        # The ground track leans further from north-south the nearer the pole (about 13 degrees
        # at 41 N, 28 at 70 N; +1.5 for the Earth's rotation).
        cos_lat = math.cos(math.radians(self.centre_lat))
        self.tilt = math.asin(_COS_INCLINATION / cos_lat) + math.radians(1.5)
        self.edge_tilt, self.edge = self.tilt, None
        # The swath's western edge through one point (scene parameter, UTM metres: T26TML's
        # top-left corner has no data, as in the real product), or its eastern edge through two
        # points, which also fix its direction (T35WMU of 2025-06-05 holds data only west of
        # the line its published render shows).
        if (west := record.scene.get("swath_west_edge")) is not None:
            self.edge = (float(west[0]), float(west[1]))
        if (east := record.scene.get("swath_east_edge")) is not None:
            (x1, y1), (x2, y2) = east
            self.edge_tilt = math.atan2(x2 - x1, y2 - y1)
            shift = _SWATH_WIDTH * np.array([-math.cos(self.edge_tilt), math.sin(self.edge_tilt)])
            self.edge = (x2 + shift[0], y2 + shift[1])
        self.arctic = is_arctic(record)
        # Two blocks: the bands of one block are usually asked for together (a quicklook, a
        # band ratio); a 10 m block's fields weigh ~100 MB.
        self._fields = functools.lru_cache(maxsize=2)(self._compute_fields)

    @functools.cached_property
    def inland(self) -> LandGrid:
        """The land mask smoothed over ~3 km: near 1 far from the sea, 0.5 on the coast.

        A stand-in for height above the sea: the coasts of the Arctic tiles rise to plateaus a
        few kilometres inland, where snow lingers into June.
        """
        across = 3.0 / max(math.cos(math.radians(self.centre_lat)), 0.1)  # cells are narrow
        smooth = ndimage.gaussian_filter(self.land.land, (3.0, across))
        return LandGrid(land=smooth, row0=self.land.row0, col0=self.land.col0)

    def pixel_axes(self, res: int, rows: slice, cols: slice) -> tuple[np.ndarray, ...]:
        """Pixel-centre x and y (metres) and global pixel indices at ``res``."""
        r = np.arange(rows.start, rows.stop, rows.step)
        c = np.arange(cols.start, cols.stop, cols.step)
        grows = (self.row_ref - int(self.y0)) // res + r
        gcols = (int(self.x0) - self.col_ref) // res + c
        return self.x0 + res * (c + 0.5), self.y0 - res * (r + 0.5), grows, gcols

    def detector_u(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Distance (m) east of the swath's western edge, per pixel (rows ``ys``, columns ``xs``).

        Where the whole tile is inside the swath, from a stand-in edge 40 km west of the tile.
        """
        edge_x, edge_y = self.edge or (self.x0 - 40_000, self.y0)
        ux = ((xs - edge_x) * math.cos(self.edge_tilt)).astype(F32)
        uy = (-(ys - edge_y) * math.sin(self.edge_tilt)).astype(F32)
        return uy[:, None] + ux[None, :]

    def inside_swath(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
        """Which pixels the swath covers; None: all of them."""
        if self.edge is None:
            return None
        u = self.detector_u(xs, ys)
        inside = (u >= 0) & (u <= _SWATH_WIDTH)
        return None if inside.all() else inside

    def cloud_field(self, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        return fbm(px, py, 48_000, 480, self.sky_seed)

    def sky(self, grows: np.ndarray, gcols: np.ndarray, factor: int) -> np.ndarray:
        return sample(pattern("sky", factor), grows, gcols, self.sky_offset // factor)

    @functools.cached_property
    def cloud_threshold(self) -> float:
        """The cloud-field level that makes the tile as cloudy as its record says.

        Evaluated on a 256 x 256 sample of the tile (texture included), inside the swath; the
        quantile puts the catalogue's share of pixels at or above the opacity counted as cloud.
        """
        cover = (self.record.cloud_cover or 0.0) / 100
        xs, ys, grows, gcols = self.pixel_axes(10, slice(21, 10980, 43), slice(21, 10980, 43))
        field = self.cloud_field(*np.meshgrid(xs, ys))
        field += F32(_CLOUD_TEXTURE) * self.sky(grows, gcols, 1)
        inside = self.inside_swath(xs, ys)
        field = field if inside is None else field[inside]
        if cover <= 0:
            return float(field.max()) + 1.0
        return float(np.quantile(field, 1 - cover)) - CLOUDY * _CLOUD_SOFTNESS

    def fields(self, res: int, rows: slice, cols: slice) -> _S2Fields:
        """The fields of one block (memoised: see ``_fields``)."""
        return self._fields(res, rows.start, rows.stop, cols.start, cols.stop)

    def _compute_fields(self, res: int, r0: int, r1: int, c0: int, c1: int) -> _S2Fields:
        # The hot loop of the service (a 10 m chunk has 3.3 million pixels): linear
        # combinations of smooth fields are formed on the nodes, before upsampling.
        xs, ys, grows, gcols = self.pixel_axes(res, slice(r0, r1), slice(c0, c1))
        nodes = node_x, node_y, fy, fx = _node_grid(xs, ys, _NODE_SPACING)
        factor = res // 10

        def smooth(largest: float, seed: int, base: float = 0.0, spread: float = 1.0) -> Any:
            """Fractal noise from ``largest`` down to the node spacing, at each pixel."""
            noise = fbm(node_x, node_y, largest, 2 * _NODE_SPACING, seed)
            return upsample(F32(base) + F32(spread) * noise, fy, fx)

        thr = self.cloud_threshold
        sky = self.sky(grows, gcols, factor)
        cloud_nodes = self.cloud_field(node_x, node_y)
        alpha = ramp(
            upsample(cloud_nodes, fy, fx) + F32(_CLOUD_TEXTURE) * sky, thr, _CLOUD_SOFTNESS
        )
        sx, sy = self.shadow_shift
        shadow = ramp(self.cloud_field(node_x + sx, node_y + sy), thr + 0.1, _CLOUD_SOFTNESS)
        shade = upsample(1 - F32(0.6) * shadow, fy, fx)
        # Thicker cloud is brighter; a little texture for the tops.
        bright = F32(0.9) + F32(0.12) * ramp(cloud_nodes, thr + _CLOUD_SOFTNESS, 1.5)
        weights: dict[str, Any] = {"cloud": (upsample(bright, fy, fx) + F32(0.006) * sky) * alpha}
        surface = (1 - alpha) * shade
        # Sub-60 m detail exists only on the finer grids (it sums to zero in a 60 m pixel).
        bits = None
        if factor % DETAIL_BLOCK:
            bits = sample(pattern("detail", factor, slope=0, detail=True), grows, gcols)
        lon, lat = self.to_lonlat.transform(node_x, node_y)
        land_nodes = self.land.fraction(lon, lat)
        water, snow = F32(1.0), F32(0.0)
        wet = surface
        if float(land_nodes.max()) >= 0.02:  # not open sea: the land fields
            ground = sample(pattern("ground", factor), grows, gcols)
            bays = fbm(node_x, node_y, 4_000, 480, self.ground_seed + 3)
            coast = upsample(land_nodes + F32(0.16) * bays, fy, fx) + F32(0.02) * ground
            lakes = upsample(fbm(node_x, node_y, 6_000, 960, self.ground_seed + 1), fy, fx)
            lakes += F32(0.08) * ground
            water = ((coast < 0.5) | (lakes > 1.8)).astype(F32)  # sea, and a few lakes
            veg = self.vegetation(nodes, xs, ys, ground)
            snow = np.zeros_like(water)
            if self.arctic:  # snow lingers on high ground in early summer
                relief = fbm(node_x, node_y, 16_000, 480, self.ground_seed)
                relief += F32(_SNOW_INLAND) * (self.inland.fraction(lon, lat) - F32(0.5))
                snow = ramp(upsample(relief, fy, fx) + F32(0.04) * ground, _SNOW_LINE, 0.5)
            # Ground brightness: kilometre-scale patches, a little texture, detail below 60 m.
            tone = smooth(3_000, self.ground_seed + 4, 1.0, _LAND_PATCHES)
            tone += F32(_LAND_TEXTURE) * ground
            if bits is not None:
                tone += F32(_LAND_DETAIL) * bits
            wet = water * surface  # the visible share of water in each pixel
            land_part = (surface - wet) * tone
            weights["snow"] = land_part * snow
            weights["veg"] = (land_part - weights["snow"]) * veg
            weights["soil"] = land_part - weights["snow"] - weights["veg"]
        # At 60 m open water is smooth to the 8-bit step: swell, and glint below 60 m.
        weights["water"] = smooth(8_000, self.sky_seed + 5, 1.0, _SEA_SWELL) * wet
        if bits is not None:
            weights["glint"] = bits * wet * F32(_GLINT)
        return _S2Fields(self.inside_swath(xs, ys), alpha, shade, water, snow, weights)

    def vegetation(self, nodes: NodeGrid, xs: Any, ys: Any, ground: np.ndarray) -> np.ndarray:
        """Green-vegetation cover 0..1 of the ground, per pixel (rows ``ys``, columns ``xs``).

        ``nodes`` is the block's coarse grid. One smooth field for every date: the tutorial's
        tiles are single acquisitions (`s2_season` follows vegetation through a season).
        """
        node_x, node_y, fy, fx = nodes
        noise = fbm(node_x, node_y, 12_000, 480, self.ground_seed + 2)
        veg_nodes = F32(0.35 if self.arctic else 0.6) + F32(0.25) * noise
        return np.clip(upsample(veg_nodes, fy, fx) + F32(_VEG_TEXTURE) * ground, 0, 1)

    def reflectance_dn(self, band: str, res: int, rows: slice, cols: slice) -> np.ndarray:
        """Digital counts (uint16, 0 = no data) of one band: (reflectance + 0.1) x 10000."""
        f = self.fields(res, rows, cols)
        _, _, grows, gcols = self.pixel_axes(res, rows, cols)
        noise = sample(
            pattern("sensor", res // 10, slope=0), grows, gcols, 97 * S2_BANDS.index(band)
        )
        rho = np.broadcast_to(f.rho(band), noise.shape) + F32(_SENSOR_NOISE) * noise
        dn = np.clip(np.rint((rho + F32(0.1)) * F32(10000)), 1, 65535).astype(np.uint16)
        return _no_data(dn, f.valid)

    def tci(self, res: int, rows: slice, cols: slice) -> np.ndarray:
        """True-colour quicklook (3, n, m) uint8 from the b04, b03, b02 digital counts."""
        return np.stack(
            [tci_from_dn(self.reflectance_dn(b, res, rows, cols)) for b in ("b04", "b03", "b02")]
        )

    def scl(self, res: int, rows: slice, cols: slice) -> np.ndarray:
        """Scene classification (SCL classes 0-11) from the same fields as the bands."""
        f = self.fields(res, rows, cols)
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        # Vegetation or not by the NDVI of the pixel's own (noise-free) reflectances, as the
        # classifier sees them: haze and shadow lower it, as they do there.
        red, nir = f.rho("b04"), f.rho("b8a")
        with np.errstate(invalid="ignore", divide="ignore"):
            scl = np.where((nir - red) / (nir + red) > 0.4, 4, 5).astype(np.uint8)
        scl = np.broadcast_to(scl, shape).copy()
        scl[np.broadcast_to(f.snow > 0.5, shape)] = 11
        scl[np.broadcast_to(f.water > 0.5, shape)] = 6
        scl[np.broadcast_to(f.shade < 0.75, shape)] = 3  # cloud shadow
        for opacity, scl_class in _SCL_BY_OPACITY:
            scl[np.broadcast_to(f.alpha >= opacity, shape)] = scl_class
        return _no_data(scl, f.valid)

    def values(self, spec: ArraySpec, region: Region) -> np.ndarray:
        """Decoded values of ``region`` of the array ``spec``."""
        path, name = spec.path, spec.name
        if path.startswith("conditions/geometry/"):
            return self._geometry_arrays[name][region]
        if path.startswith("conditions/meteorology/"):
            return self._meteorology(spec)[region]
        res = int(re.search(r"/r(10|20|60)m/", path).group(1))  # type: ignore[union-attr]
        if name in ("x", "y"):
            centres = res * np.arange(region[0].start, region[0].stop) + res // 2
            return (int(self.x0) + centres) if name == "x" else (int(self.y0) - centres)
        if name == "band":
            return np.arange(1, 4)[region] if spec.shape else np.array(1)
        if name == "tci":
            return self.tci(res, *region[1:])[region[0]]
        if path.startswith("measurements/reflectance/"):
            return self.reflectance_dn(name, res, *region)
        return self.scl(res, *region) if name == "scl" else self._masks(path, name, res, *region)

    def _masks(self, path: str, name: str, res: int, rows: slice, cols: slice) -> np.ndarray:
        f = self.fields(res, rows, cols)
        xs, ys, _, _ = self.pixel_axes(res, rows, cols)
        alpha = np.broadcast_to(f.alpha, (len(ys), len(xs)))
        if "detector_footprint" in path:
            shift = 150.0 * (S2_BANDS.index(name) % 2 * 2 - 1)  # odd/even band staggering
            u = self.detector_u(xs, ys) + F32(shift)
            out = np.clip(u // F32(_DETECTOR_WIDTH) + 1, 1, 12)
        elif path.startswith("quality/mask/"):
            out = np.where(alpha > 0.985, 128, 0)  # QT_SATURATED_PIXELS_L1A on bright cloud tops
            return _no_data(out.astype(np.uint8), f.valid, fill=32)
        elif "l1c_classification" in path:
            out = np.where(alpha >= 0.45, 1, np.where(alpha >= CLOUDY, 2, 0))
            out[(np.broadcast_to(f.snow, alpha.shape) > 0.5) & (alpha < CLOUDY)] = 4
        elif name in ("cld", "snw"):
            clear_snow = np.broadcast_to(f.snow * (1 - f.water), alpha.shape) * (alpha < CLOUDY)
            out = np.rint(np.clip(alpha * 105, 0, 100) if name == "cld" else clear_snow * 100)
        else:  # aot (x 1000) and wvp (cm x 1000): vary over kilometres, coarse nodes suffice
            node_x, node_y, fy, fx = _node_grid(xs, ys, 2400.0)
            noise = fbm(node_x, node_y, 60_000, 4_800, self.sky_seed + (name == "wvp"))
            base = {"aot": 110, "wvp": 1150 if self.arctic else 2100}[name]
            field = upsample(F32(base) + F32(30 if name == "aot" else 250) * noise, fy, fx)
            return np.broadcast_to(np.rint(field), alpha.shape).astype(np.uint16)
        return _no_data(out.astype(np.uint8), f.valid)

    @functools.cached_property
    def _geometry_arrays(self) -> dict[str, np.ndarray]:
        """Sun and viewing angles on the 23 x 23 grid (5 km) of conditions/geometry."""
        gx, gy, _ = tile_angle_grid(self.record)
        sun = np.stack(tile_sun_angles(self.record))
        u = self.detector_u(gx, gy).astype(np.float64)
        first = int(np.clip(max(u.min(), 0.0) // _DETECTOR_WIDTH + 1, 1, 7))
        detectors = np.arange(first, first + 6)
        # (band, detector, 1, y, x): bands see the ground at slightly different angles, and a
        # detector covers its strip of the swath (plus 1.5 km overlap).
        band = np.arange(13)[:, None, None, None, None]
        low = ((detectors - 1) * _DETECTOR_WIDTH - 1500)[None, :, None, None, None]
        covered = (u >= low) & (u <= low + _DETECTOR_WIDTH + 3000)
        nadir = _SWATH_WIDTH / 2
        zenith = np.degrees(np.arctan(np.abs(u - nadir) / 786_000.0)) + 0.04 * (band - 6)
        # Azimuth towards the satellite: east of the track's middle, west beyond it.
        azimuth = np.where(u > nadir, 283.5, 103.5) + 0.02 * band
        view = np.where(
            covered, np.concatenate(np.broadcast_arrays(zenith, azimuth), axis=2), np.nan
        )
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

    def _meteorology(self, spec: ArraySpec) -> np.ndarray:
        lats, lons = meteo_grid(self.record)
        scalars = {"isobaricInhPa": 0.0, "surface": 0.0, "number": 0, "time": 0, "valid_time": 0}
        # step: nanoseconds from the forecast's midnight to sensing
        scalars["step"] = (self.start.hour * 60 + self.start.minute) * 60 * 10**9
        name = spec.name
        if name in ("latitude", "longitude"):
            return (lats if name == "latitude" else lons).astype(np.float64)
        if name in scalars:
            return np.array(scalars[name], dtype=spec.dtype)
        lon_grid, lat_grid = np.meshgrid(lons, lats)
        field = fbm(lon_grid, lat_grid, 2.0, 0.25, self.sky_seed + seed_of(name))
        base, spread = scene_values()["s2_meteorology"][name]
        values = base + spread * field
        if name == "z":  # surface geopotential: g x height of the ground
            values = 9.80665 * 250.0 * self.land.fraction(lon_grid, lat_grid) * (1 + 0.3 * field)
        return values.astype(spec.dtype)


def _node_grid(xs: np.ndarray, ys: np.ndarray, d: float) -> NodeGrid:
    """World-aligned nodes every ``d`` metres around a block, and its pixels' node coordinates."""
    kx = np.arange(math.floor(xs[0] / d) - 1, math.floor(xs[-1] / d) + 3)
    ky = np.arange(math.floor(ys[0] / d) + 2, math.floor(ys[-1] / d) - 2, -1)
    node_x, node_y = np.meshgrid(kx * d, ky * d)
    return node_x, node_y, (ky[0] * d - ys) / d, (xs - kx[0] * d) / d


def _no_data(values: np.ndarray, valid: np.ndarray | None, fill: int = 0) -> np.ndarray:
    """``values`` with ``fill`` outside the swath."""
    if valid is not None:
        values[~valid] = fill
    return values


def tci_from_dn(dn: np.ndarray) -> np.ndarray:
    """The L2A quicklook convention: reflectance 0..0.25 to 1..255, 0 for no data."""
    tci = np.clip(np.rint(1 + (dn * 1e-4 - 0.1) * (254 / 0.25)), 1, 255).astype(np.uint8)
    return _no_data(tci, dn != 0)
