"""The synthetic scene of a Sentinel-2 L2A tile: sea, land, snow, clouds and shadows.

Fields live in the tile's UTM coordinates, so every band and resolution is cut from one picture:
world-aligned 240 m nodes carry the large scales (land from the real mask, vegetation, relief,
clouds as cloudy as the record says, their shadows), textures the fine ones; each band is a
weighted sum of material spectra, and SCL, quicklook, masks, angles and meteorology derive from
the same fields. The orbit's swath edge leaves some tiles partly without data, as real ones.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyproj import Transformer
from scipy import ndimage

from .. import timefmt
from ..catalog import S2_TILE_SIZE_M, ProductRecord, is_arctic
from ..products import ArraySpec, meteo_grid
from ..solar import solar_angles, tile_angle_grid, tile_sun_angles
from .landmask import LandGrid, RecordLand
from .texture import (
    CLOUDY,
    DETAIL_BLOCK,
    F32,
    Region,
    detail,
    fbm,
    fine,
    ramp,
    sample,
    scene_values,
    seed_of,
    upsample,
    white,
)

PRODUCT_TYPE = "S02MSIL2A"

S2_BANDS = tuple(
    f"b{n}" for n in ["01", "02", "03", "04", "05", "06", "07", "08", "8a", "09", "10", "11", "12"]
)
# Reflectance spectra of the scene's materials, per band (typical published
# values, rounded): open sea, green vegetation, bare soil / tundra, snow, cloud.
# fmt: off
_SPECTRA = {
    "water": (0.032, 0.026, 0.017, 0.007, 0.005, 0.004, 0.0035, 0.003, 0.003, 0.002, 0.001,
              0.0015, 0.001),
    "veg": (0.025, 0.035, 0.07, 0.04, 0.11, 0.27, 0.33, 0.36, 0.37, 0.36, 0.005, 0.19, 0.09),
    "soil": (0.07, 0.085, 0.115, 0.135, 0.16, 0.19, 0.21, 0.23, 0.24, 0.24, 0.01, 0.28, 0.21),
    "snow": (0.88, 0.88, 0.87, 0.85, 0.83, 0.81, 0.79, 0.76, 0.74, 0.58, 0.03, 0.06, 0.04),
    "cloud": (0.85, 0.85, 0.85, 0.85, 0.86, 0.86, 0.86, 0.86, 0.86, 0.76, 0.42, 0.58, 0.44),
    # Sun glint and foam on wave facets: spectrally flat, except where the
    # atmosphere absorbs (b10). Its weight is zero-mean detail, so it adds
    # variance at 10 and 20 m and nothing to any 60 m pixel.
    "glint": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.0, 0.7, 0.6),
}
# fmt: on
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
_CLOUD_SOFTNESS = 0.4  # width (in sigmas of the cloud field) of a cloud's edge
_CLOUD_TEXTURE = 0.02
_CLOUD_HEIGHT = 2500.0  # metres: sets the offset between a cloud and its shadow


NodeGrid = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""A block's coarse node grid: node x, node y, and each pixel's fractional node row, column."""


@dataclass
class _S2Fields:
    """Everything about one block of pixels at one resolution that the bands share."""

    valid: np.ndarray | None  # None: every pixel is inside the swath
    alpha: Any  # cloud opacity 0..1
    shade: Any  # 1, or less in cloud shadow
    water: Any  # 1 water, 0 land
    snow: Any
    weights: dict[str, Any]  # material -> weight in the band sum


class S2Scene(RecordLand):
    """The synthetic scene of one Sentinel-2 L2A tile on one date."""

    def __init__(self, record: ProductRecord) -> None:
        assert record.epsg is not None and record.utm_origin is not None
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
        self.start = timefmt.parse(record.start_datetime)
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
        # One point (UTM metres) on the western swath edge of the record's orbit (a scene
        # parameter of the record). The tutorial's T26TML lies at the western edge of orbit
        # 95's swath: its top-left corner is outside the swath (no data), as in the real product.
        edge = record.scene.get("swath_west_edge")
        self.edge = None if edge is None else (float(edge[0]), float(edge[1]))
        # The ground track leans further from north-south the nearer the pole
        # (about 13 degrees at 41 N, 28 at 70 N; +1.5 for the Earth's rotation).
        self.tilt = math.asin(_COS_INCLINATION / math.cos(math.radians(self.centre_lat)))
        self.tilt += math.radians(1.5)
        self.edge_tilt = self.tilt
        # Or two points on the *eastern* edge, which also fix its direction (T35WMU of
        # 2025-06-05 holds data only west of the line its published render shows).
        east = record.scene.get("swath_east_edge")
        if east is not None:  # the western edge, one swath width west of the eastern one
            (x1, y1), (x2, y2) = east
            self.edge_tilt = math.atan2(x2 - x1, y2 - y1)
            self.edge = (
                x2 - _SWATH_WIDTH * math.cos(self.edge_tilt),
                y2 + _SWATH_WIDTH * math.sin(self.edge_tilt),
            )
        self.arctic = is_arctic(record)
        # Two blocks: the bands of one block are usually asked for together
        # (a quicklook, a band ratio); a 10 m block's fields weigh ~100 MB.
        self._fields = functools.lru_cache(maxsize=2)(self._compute_fields)

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

    def pixel_axes(self, res: int, rows: slice, cols: slice) -> tuple[np.ndarray, ...]:
        """Pixel-centre x and y (metres) and global pixel indices at ``res``."""
        r, c = (
            np.arange(rows.start, rows.stop, rows.step),
            np.arange(cols.start, cols.stop, cols.step),
        )
        xs = self.x0 + res * (c + 0.5)
        ys = self.y0 - res * (r + 0.5)
        gcols = (int(self.x0) - self.col_ref) // res + c
        grows = (self.row_ref - int(self.y0)) // res + r
        return xs, ys, grows, gcols

    def across_track(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
        """Distance (m) east of the swath's western edge, per pixel; None if no edge."""
        return None if self.edge is None else _across(xs, ys, self.edge, self.edge_tilt)

    def detector_u(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """`across_track`, or where the whole tile is inside the swath, a stand-in edge."""
        u = self.across_track(xs, ys)
        return _across(xs, ys, (self.x0 - 40_000, self.y0), self.tilt) if u is None else u

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
        xs, ys, grows, gcols = self.pixel_axes(10, slice(21, 10980, 43), slice(21, 10980, 43))
        px, py = np.meshgrid(xs, ys)
        field = self.cloud_field(px, py) + F32(_CLOUD_TEXTURE) * fine(
            grows, gcols, 1, self.sky_offset, -1.0
        )
        u = self.across_track(xs, ys)
        inside = field if u is None else field[(u >= 0) & (u <= _SWATH_WIDTH)]
        if cover <= 0:
            return float(inside.max()) + 1.0
        return float(np.quantile(inside, 1 - cover)) - CLOUDY * _CLOUD_SOFTNESS

    def fields(self, res: int, rows: slice, cols: slice) -> _S2Fields:
        """The fields of one block (memoised: see ``_fields``)."""
        return self._fields(res, rows.start, rows.stop, cols.start, cols.stop)

    def _compute_fields(self, res: int, r0: int, r1: int, c0: int, c1: int) -> _S2Fields:
        # Written with in-place operations: this is the hot loop of the
        # service (a 10 m chunk has 3.3 million pixels). Linear combinations
        # of smooth fields are formed on the nodes, before upsampling.
        xs, ys, grows, gcols = self.pixel_axes(res, slice(r0, r1), slice(c0, c1))
        node_x, node_y, fy, fx = _node_grid(xs, ys, _NODE_SPACING)
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
        bits = None if factor % DETAIL_BLOCK == 0 else sample(detail(factor), grows, gcols)
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
        veg = self.vegetation((node_x, node_y, fy, fx), xs, ys, ground)
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

    def vegetation(self, nodes: NodeGrid, xs: Any, ys: Any, ground: np.ndarray) -> np.ndarray:
        """Green-vegetation cover 0..1 of the ground, per pixel (rows ``ys``, columns ``xs``).

        ``nodes`` is the block's coarse grid (node x and y, and each pixel's fractional node
        row and column). One smooth field for every date: the tutorial's tiles are single
        acquisitions. A scene that follows vegetation through a season (`s2_season`) overrides
        this.
        """
        node_x, node_y, fy, fx = nodes
        base = 0.35 if self.arctic else 0.6
        veg_nodes = F32(base) + F32(0.25) * fbm(node_x, node_y, 12_000, 480, self.ground_seed + 2)
        veg = upsample(veg_nodes, fy, fx) + F32(_VEG_TEXTURE) * ground
        np.clip(veg, 0, 1, out=veg)
        return veg

    # --- measurements ---------------------------------------------------------

    def reflectance_dn(self, band: str, res: int, rows: slice, cols: slice) -> np.ndarray:
        """Digital counts (uint16, 0 = no data) of one band: (reflectance + 0.1) x 10000."""
        f = self.fields(res, rows, cols)
        b = S2_BANDS.index(band)
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        rho = np.zeros(shape, dtype=F32)
        for material, weight in f.weights.items():
            rho += weight * F32(_SPECTRA[material][b])
        _, _, grows, gcols = self.pixel_axes(res, rows, cols)
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
        scl[(alpha >= 0.15) & (alpha < CLOUDY)] = 7  # unclassified (hazy edge)
        scl[(alpha >= CLOUDY) & (alpha < 0.45)] = 10  # thin cirrus
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
            return self._geometry_arrays[name][region]
        if path.startswith("conditions/meteorology/"):
            return self._meteorology(spec)[region]
        assert res_match, path
        res = int(res_match.group(1))
        if name in ("x", "y"):
            idx = np.arange(region[0].start, region[0].stop)
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
            xs, ys, _, _ = self.pixel_axes(res, rows, cols)
            u = self.detector_u(xs, ys)
            shift = 150.0 * (S2_BANDS.index(name) % 2 * 2 - 1)  # odd/even band staggering
            out = np.clip((u + F32(shift)) // F32(_DETECTOR_WIDTH) + 1, 1, 12).astype(np.uint8)
        elif path.startswith("quality/mask/"):
            out = np.zeros(shape, dtype=np.uint8)
            out[alpha > 0.985] = 128  # QT_SATURATED_PIXELS_L1A on the brightest cloud tops
        elif "l1c_classification" in path:
            out = np.where(alpha >= 0.45, 1, np.where(alpha >= CLOUDY, 2, 0)).astype(np.uint8)
            snowy = (np.broadcast_to(f.snow, shape) > 0.5) & (alpha < CLOUDY)
            out[snowy] = 4
        elif name == "cld":
            out = np.rint(np.clip(alpha * 105, 0, 100)).astype(np.uint8)
        elif name == "snw":
            snow = np.broadcast_to(f.snow * (1 - f.water), shape) * (alpha < CLOUDY)
            out = np.rint(snow * 100).astype(np.uint8)
        elif name in ("aot", "wvp"):
            out = self._atmosphere(name, res, rows, cols)
        else:
            raise KeyError(path)
        if f.valid is not None:
            out[~f.valid] = 32 if path.startswith("quality/mask/") else 0
        return out

    def _atmosphere(self, name: str, res: int, rows: slice, cols: slice) -> np.ndarray:
        xs, ys, _, _ = self.pixel_axes(res, rows, cols)
        # Aerosol and water vapour vary over kilometres: coarse nodes suffice.
        node_x, node_y, fy, fx = _node_grid(xs, ys, 2400.0)
        field = upsample(
            fbm(node_x, node_y, 60_000, 4_800, self.sky_seed + (name == "wvp")), fy, fx
        )
        shape = (len(ys), len(xs))
        if name == "aot":  # AOT x 1000
            values = F32(110) + F32(30) * field
        else:  # water vapour, cm x 1000
            values = F32(1150 if self.arctic else 2100) + F32(250) * field
        return np.broadcast_to(np.rint(values), shape).astype(np.uint16)

    # --- small arrays -------------------------------------------------------------

    @functools.cached_property
    def _geometry_arrays(self) -> dict[str, np.ndarray]:
        """Sun and viewing angles on the 23 x 23 grid (5 km) of conditions/geometry."""
        gx, gy, _ = tile_angle_grid(self.record)
        sun = np.stack(tile_sun_angles(self.record))
        u = self.detector_u(gx, gy).astype(np.float64)
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
        base, spread = scene_values()["s2_meteorology"][name]
        values = base + spread * field
        if name == "z":  # surface geopotential: g x height of the ground
            values = 9.80665 * 250.0 * land * (1 + 0.3 * field)
        return values.astype(spec.dtype)


def _node_grid(xs: np.ndarray, ys: np.ndarray, d: float) -> NodeGrid:
    """World-aligned nodes every ``d`` metres around a block, and its pixels' node coordinates."""
    kx = np.arange(math.floor(xs[0] / d) - 1, math.floor(xs[-1] / d) + 3)
    ky = np.arange(math.floor(ys[0] / d) + 2, math.floor(ys[-1] / d) - 2, -1)
    node_x, node_y = np.meshgrid(kx * d, ky * d)
    return node_x, node_y, (ky[0] * d - ys) / d, (xs - kx[0] * d) / d


def _across(xs: np.ndarray, ys: np.ndarray, edge: tuple[float, float], tilt: float) -> np.ndarray:
    """Distance (m) east of a line through ``edge`` leaning ``tilt`` (radians) from north."""
    ux = ((xs - edge[0]) * math.cos(tilt)).astype(F32)
    uy = (-(ys - edge[1]) * math.sin(tilt)).astype(F32)
    return uy[:, None] + ux[None, :]


def tci_from_dn(dn: np.ndarray) -> np.ndarray:
    """The L2A quicklook convention: reflectance 0..0.25 to 1..255, 0 for no data."""
    rho = dn.astype(np.float64) * 1e-4 - 0.1
    tci = np.clip(np.rint(1 + rho * (254 / 0.25)), 1, 255).astype(np.uint8)
    tci[dn == 0] = 0
    return tci
