"""A Sentinel-2 L2A tile through a season: farmland and forest whose green cover follows the date.

The time-series chapter reads some 25 acquisitions of one tile, and a series only teaches
something if the ground changes as real ground does. This scene replaces `S2Scene`'s one
vegetation field (everything else is `S2Scene`'s) by land-cover classes in world coordinates,
each with a yearly course of green cover (`PHENOLOGY`): forest where a kilometre-scale field is
high; elsewhere 400 m x 300 m parcels in a brick pattern, each drawing a crop and a few days'
shift of its calendar from its hash; and the record's clear-cuts (``scene["clear_cuts"]``: UTM
boxes with the day of felling), bare soil and slash from that day on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ..catalog import ProductRecord
from .s2_l2a import NodeGrid, S2Scene
from .texture import F32, fbm, lattice, ramp, seed_of, upsample

LAND_COVER = "farmland-forest"
"""The value of ``scene["land_cover"]`` that selects this scene."""

PARCEL_WIDTH, PARCEL_HEIGHT = 400.0, 300.0  # metres
FOREST_SHARE_LEVEL = 0.85  # fbm level (sigmas) above which the ground is forest (a fifth)
CUT_COVER = 0.05  # green cover of a fresh clear-cut (bare soil and slash)
CUT_REGROWTH_PER_YEAR = 0.12

# Green cover (0..1) through the year: (day of year, cover) knots, linear between, per class.
# Winter cereal: harvested late July, sown in September; summer crop (maize): bare until May,
# harvested in October; grassland: cut in early June; mixed forest: a little greener in summer.
# fmt: off
PHENOLOGY: dict[str, tuple[tuple[int, float], ...]] = {
    "forest": ((0, 0.8), (110, 0.8), (140, 0.92), (280, 0.92), (310, 0.8), (365, 0.8)),
    "winter_cereal": ((0, 0.45), (60, 0.45), (90, 0.55), (130, 0.9), (165, 0.9), (190, 0.5),
                      (205, 0.05), (235, 0.05), (255, 0.25), (285, 0.45), (365, 0.45)),
    "summer_crop": ((0, 0.05), (120, 0.05), (150, 0.2), (190, 0.8), (240, 0.9), (265, 0.75),
                    (275, 0.05), (365, 0.05)),
    "grassland": ((0, 0.5), (80, 0.5), (120, 0.85), (150, 0.85), (153, 0.5), (175, 0.8),
                  (270, 0.75), (330, 0.6), (365, 0.5)),
}
# fmt: on
CROP_SHARES = (("winter_cereal", 0.45), ("summer_crop", 0.3), ("grassland", 0.25))
DATE_JITTER_DAYS = 8  # parcels sow, mow and harvest up to this many days apart
HAZE_UNCLASSIFIED = 0.05
"""Cloud opacity from which the season's SCL calls a pixel unclassified (7), not clear.

The tutorial scene starts at 0.15; a time series averages many dates, and haze that SCL let
through would pull every date's NDVI down by a different amount, so here the classifier is
stricter: a pixel is clear (or a cloud shadow, 3) only where the sky above it is.
"""


def _cover(kind: str, day_of_year: np.ndarray | float) -> np.ndarray:
    days, cover = zip(*PHENOLOGY[kind], strict=True)
    return np.interp(day_of_year, days, cover, period=365).astype(F32)


def crop_of(parcel_hash: np.ndarray) -> np.ndarray:
    """Index into `CROP_SHARES` of each parcel, from its hash in [-1, 1)."""
    edges = np.cumsum([share for _, share in CROP_SHARES])[:-1] * 2 - 1
    return np.searchsorted(edges, parcel_hash)


class SeasonScene(S2Scene):
    """One acquisition of a tile whose vegetation follows land cover and date."""

    def __init__(self, record: ProductRecord) -> None:
        super().__init__(record)
        self.day_of_year = float(self.start.timetuple().tm_yday)
        self.cover_seed = seed_of("land-cover", record.epsg, record.mgrs_tile)
        self.cuts = [
            (tuple(float(v) for v in cut["box"]), dt.date.fromisoformat(cut["on"]))
            for cut in record.scene.get("clear_cuts", ())
        ]

    def scl(self, res: int, rows: slice, cols: slice) -> np.ndarray:
        """`S2Scene.scl`, with hazy pixels (see `HAZE_UNCLASSIFIED`) unclassified."""
        scl = super().scl(res, rows, cols)
        alpha = np.broadcast_to(self.fields(res, rows, cols).alpha, scl.shape)
        scl[(alpha >= HAZE_UNCLASSIFIED) & np.isin(scl, (3, 4, 5, 6, 11))] = 7
        return scl

    def forest_weight(self, node_x: np.ndarray, node_y: np.ndarray, fy: Any, fx: Any) -> Any:
        """Forest share of each pixel: 1 inside a forest, 0 in the fields, a 100 m edge."""
        nodes = fbm(node_x, node_y, 8_000, 480, self.cover_seed)
        return ramp(upsample(nodes, fy, fx), FOREST_SHARE_LEVEL, 0.15)

    def parcels(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each pixel's parcel, as two hashes in [-1, 1): its crop, and its date shift."""
        row = np.floor(ys / PARCEL_HEIGHT).astype(np.int64)
        shift = (row % 2) * (PARCEL_WIDTH / 2)
        col = np.floor((xs[None, :] + shift[:, None]) / PARCEL_WIDTH).astype(np.int64)
        rows = np.broadcast_to(row[:, None], col.shape)
        return lattice(col, rows, self.cover_seed + 1), lattice(col, rows, self.cover_seed + 2)

    def vegetation(self, nodes: NodeGrid, xs: Any, ys: Any, ground: np.ndarray) -> np.ndarray:
        """Green cover on this date: crops per parcel, forest, clear-cuts (see the module)."""
        node_x, node_y, fy, fx = nodes
        crop_hash, jitter = self.parcels(xs, ys)
        day = self.day_of_year - F32(DATE_JITTER_DAYS) * jitter
        crop = crop_of(crop_hash)
        fields = np.empty(crop.shape, dtype=F32)
        for index, (kind, _) in enumerate(CROP_SHARES):
            where = crop == index
            fields[where] = _cover(kind, day[where])
        forest = np.broadcast_to(self.forest_weight(node_x, node_y, fy, fx), fields.shape)
        veg = fields + forest * (_cover("forest", self.day_of_year) - fields)
        veg += F32(0.015) * ground
        for (xmin, ymin, xmax, ymax), felled in self.cuts:
            if self.start.date() < felled:
                continue
            years = (self.start.date() - felled).days / 365.25
            inside = ((ys >= ymin) & (ys <= ymax))[:, None] & ((xs >= xmin) & (xs <= xmax))[None]
            stumps = F32(CUT_COVER + CUT_REGROWTH_PER_YEAR * years)
            veg[inside] = stumps + F32(0.01) * ground[inside]
        np.clip(veg, 0, 1, out=veg)
        return veg
