"""A Sentinel-2 L2A tile through a season: farmland and forest whose green cover follows the date.

The time-series chapter reads some 25 acquisitions of one tile, and a series only teaches
something if the ground changes as real ground does. This scene replaces `S2Scene`'s one
vegetation field (everything else is `S2Scene`'s) by land-cover classes in world coordinates,
each with a yearly course of green cover (``season_phenology`` in ``scene_values.json``): forest
where a kilometre-scale field is high; elsewhere 400 m x 300 m parcels in a brick pattern, each
drawing a crop and a few days' shift of its calendar from its hash; and the record's clear-cuts
(``scene["clear_cuts"]``: UTM boxes with the day of felling), bare soil and slash from that day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ..catalog import ProductRecord
from .s2_l2a import NodeGrid, S2Scene
from .texture import F32, fbm, lattice, ramp, scene_values, seed_of, upsample

LAND_COVER = "farmland-forest"
"""The value of ``scene["land_cover"]`` that selects this scene."""

PARCEL_WIDTH, PARCEL_HEIGHT = 400.0, 300.0  # metres
FOREST_SHARE_LEVEL = 0.85  # fbm level (sigmas) above which the ground is forest (a fifth)
CUT_COVER = 0.05  # green cover of a fresh clear-cut (bare soil and slash)
CUT_REGROWTH_PER_YEAR = 0.12
DATE_JITTER_DAYS = 8  # parcels sow, mow and harvest up to this many days apart
HAZE_UNCLASSIFIED = 0.05
"""Cloud opacity from which the season's SCL calls a pixel unclassified (7), not clear.

The tutorial scene starts at 0.15; a time series averages many dates, and haze that SCL let
through would pull every date's NDVI down by a different amount, so here the classifier is
stricter: a pixel is clear (or a cloud shadow, 3) only where the sky above it is.
"""


def _cover(kind: str, day_of_year: np.ndarray | float) -> np.ndarray:
    days, cover = zip(*scene_values()["season_phenology"][kind], strict=True)
    return np.interp(day_of_year, days, cover, period=365).astype(F32)


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

    def vegetation(self, nodes: NodeGrid, xs: Any, ys: Any, ground: np.ndarray) -> np.ndarray:
        """Green cover on this date: crops per parcel, forest, clear-cuts (see the module)."""
        node_x, node_y, fy, fx = nodes
        # Each pixel's parcel (brick pattern), as two hashes in [-1, 1): crop and date shift.
        row = np.floor(ys / PARCEL_HEIGHT).astype(np.int64)[:, None]
        col = np.floor((xs[None, :] + (row % 2) * (PARCEL_WIDTH / 2)) / PARCEL_WIDTH)
        col = col.astype(np.int64)
        row = np.broadcast_to(row, col.shape)
        crop_hash, jitter = (lattice(col, row, self.cover_seed + i) for i in (1, 2))
        day = self.day_of_year - F32(DATE_JITTER_DAYS) * jitter
        shares = scene_values()["season_crop_shares"]
        edges = np.cumsum(list(shares.values()))[:-1] * 2 - 1
        crop = np.searchsorted(edges, crop_hash)
        fields = np.empty(crop.shape, dtype=F32)
        for index, kind in enumerate(shares):
            fields[crop == index] = _cover(kind, day[crop == index])
        # Forest share of each pixel: 1 inside a forest, 0 in the fields, a 100 m edge.
        forest_nodes = fbm(node_x, node_y, 8_000, 480, self.cover_seed)
        forest = ramp(upsample(forest_nodes, fy, fx), FOREST_SHARE_LEVEL, 0.15)
        veg = fields + forest * (_cover("forest", self.day_of_year) - fields)
        veg += F32(0.015) * ground
        for (xmin, ymin, xmax, ymax), felled in self.cuts:
            if self.start.date() >= felled:
                years = (self.start.date() - felled).days / 365.25
                inside = ((ys >= ymin) & (ys <= ymax))[:, None] & ((xs >= xmin) & (xs <= xmax))
                stumps = F32(CUT_COVER + CUT_REGROWTH_PER_YEAR * years)
                veg[inside] = stumps + F32(0.01) * ground[inside]
        return np.clip(veg, 0, 1, out=veg)
