"""Chapter 09 finds the disturbance the sample catalogue fixes, at both catalogue dates.

Why this file exists: executing the chapter (nbmake, the book build) proves that it runs, not
that its "find the disturbance" section finds the clear-cut the season's scene description
places (``clear_cuts`` in the T32UNE records), nor that the figure's enlarged panel frames
it. Here the chapter's own detection cells and `zoom_box` run, as they stand in the chapter,
on the NDVI stack the chapter would build: the season's products below the chapter's cloud
limit, masked with the chapter's SCL classes, over its window. The stack is computed from the
synthetic scenes directly (the same values the store serves), so no service and no notebook
kernel are needed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from pyproj import Transformer
from scipy import ndimage

from helpers.sample_service import catalog, scenes, settings

CHAPTER = Path(__file__).resolve().parents[2] / "book" / "09_season_time_series.md"
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.S | re.M)
ORIGIN_X, ORIGIN_Y, RES = 499980, 6000000, 20  # T32UNE's 20 m grid


def _cells() -> list[str]:
    return CODE_CELL.findall(CHAPTER.read_text(encoding="utf-8"))


def _cell(starting: str) -> str:
    (found,) = [cell for cell in _cells() if cell.lstrip().startswith(starting)]
    return found


def _function(name: str) -> str:
    """The source of a function the chapter defines (up to its first unindented line)."""
    for cell in _cells():
        match = re.search(rf"^def {name}\(.*?(?=^\S)", cell + "\nEND", re.M | re.S)
        if match:
            return match.group(0)
    raise LookupError(name)


def _constant(name: str) -> object:
    """A constant the chapter assigns on a line of its own (``NAME = ...``, ``A, B = ...``)."""
    constants: dict = {}
    for cell in _cells():
        for line in re.findall(r"^[A-Z][A-Z_]*(?:, [A-Z][A-Z_]*)* = .*$", cell, re.M):
            try:
                exec(line, {}, constants)  # the chapter's literals: numbers, strings, lists
            except NameError:  # not a literal (e.g. STAC_URL = stac_root_url())
                continue
    return constants[name]


def _window_ndvi(date: str, window: dict, clear: list[int]) -> xr.DataArray:
    """The chapter's masked NDVI stack over its window, from the scenes of ``date``."""
    season = [r for r in catalog.products_on(date) if r.mgrs_tile == "32UNE"]
    newest = max(r.start_datetime for r in season)
    first = (dt.date.fromisoformat(newest[:10]) - dt.timedelta(days=182)).isoformat()
    limit = float(_constant("MAX_CLOUD"))
    used = sorted(
        (r for r in season if r.start_datetime[:10] >= first and r.cloud_cover < limit),
        key=lambda r: r.start_datetime,
    )
    cols = slice(
        int(np.ceil((window["x"].start - ORIGIN_X) / RES - 0.5)),
        int(np.floor((window["x"].stop - ORIGIN_X) / RES - 0.5)) + 1,
    )
    rows = slice(
        int(np.ceil((ORIGIN_Y - window["y"].start) / RES - 0.5)),
        int(np.floor((ORIGIN_Y - window["y"].stop) / RES - 0.5)) + 1,
    )
    layers = []
    for record in used:
        scene = scenes.scene_for(record)
        red, nir = (
            scene.reflectance_dn(band, RES, rows, cols).astype(float) * 1e-4 - 0.1
            for band in ("b04", "b8a")
        )
        seen = np.isin(scene.scl(RES, rows, cols), clear)
        ndvi = np.where(seen, (nir - red) / (nir + red), np.nan)
        layers.append(ndvi.astype("float32"))
    coords = {
        "time": [dt.datetime.fromisoformat(r.start_datetime[:19]) for r in used],
        "y": ORIGIN_Y - RES * (np.arange(rows.start, rows.stop) + 0.5),
        "x": ORIGIN_X + RES * (np.arange(cols.start, cols.stop) + 0.5),
    }
    return xr.DataArray(np.stack(layers), coords=coords, dims=("time", "y", "x"))


@pytest.fixture(scope="module", params=settings.SUPPORTED_DATES)
def detection(request: pytest.FixtureRequest) -> tuple[dict, dict]:
    """The chapter's detection cells run at one catalogue date: (their namespace, the clear-cut
    the season's records place in that year)."""
    date = request.param
    to_tile = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True)
    namespace: dict = {"to_tile": to_tile, "np": np, "xr": xr, "ndimage": ndimage}
    exec(_function("square"), namespace)  # the chapter's window, from its constants
    window = namespace["square"](
        _constant("WINDOW_LON"), _constant("WINDOW_LAT"), _constant("WINDOW_SIZE")
    )
    namespace["window_ndvi"] = _window_ndvi(date, window, list(_constant("CLEAR")))
    exec(_cell('times = window_ndvi["time"]'), namespace)
    exec(_cell("if count:"), namespace)
    season = [r for r in catalog.products_on(date) if r.mgrs_tile == "32UNE"]
    (cut,) = [c for c in season[0].scene["clear_cuts"] if c["on"][:4] == date[:4]]
    return namespace, cut


def test_the_chapter_finds_the_clear_cut_of_the_season(detection: tuple[dict, dict]) -> None:
    namespace, cut = detection
    assert namespace["count"] >= 1
    xmin, ymin, xmax, ymax = cut["box"]
    assert xmin <= namespace["x"] <= xmax and ymin <= namespace["y"] <= ymax
    felled = dt.date.fromisoformat(cut["on"])
    assert namespace["before"].date() < felled <= namespace["after"].date()


def test_the_enlarged_panel_frames_the_clear_cut(detection: tuple[dict, dict]) -> None:
    """The figure's zoom is placed from the detected area (the two dates' cuts lie 2 km apart,
    so a fixed box could not frame both) and is small enough to show it pixel by pixel."""
    namespace, cut = detection
    exec(_function("zoom_box"), namespace)
    window_ndvi = namespace["window_ndvi"]
    region = xr.DataArray(
        namespace["largest"], coords={"y": window_ndvi["y"], "x": window_ndvi["x"]}
    )
    zoom = namespace["zoom_box"](region)
    xmin, ymin, xmax, ymax = cut["box"]
    assert zoom["x"].start < xmin < xmax < zoom["x"].stop
    assert zoom["y"].stop < ymin < ymax < zoom["y"].start  # y descends
    side = zoom["x"].stop - zoom["x"].start
    assert side == pytest.approx(zoom["y"].start - zoom["y"].stop)  # a square
    window_side = float(window_ndvi["x"].max() - window_ndvi["x"].min())
    assert side <= window_side / 4
    assert int(region.sel(zoom).sum()) == int(region.sum())  # the whole area is inside
