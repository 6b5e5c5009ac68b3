"""The season of T32UNE: real dates and orbits, and a scene whose classes agree with its pixels.

What is checked against what: the records' dates and orbits against the repeat cycle anchored on
real products (not on the generator's own constants), the data file against the generator, the
scene classification against the reflectances of the same chunk, each product's
``eo:cloud_cover`` against the share of cloud its SCL shows, and the ground's course through the
season (crops green up and are harvested, forest stays, the clear-cut goes bare on its date).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.sample_service import catalog, scenes, settings, zarr_store

ROOT = Path(__file__).resolve().parents[2]
SEASON = [r for r in catalog.PRODUCTS if r.mgrs_tile == "32UNE"]

# Real acquisitions (/work/shared/reference, the live service): each satellite's pass on one
# orbit, from which the repeat cycle (143 orbits in 10 days) gives every other pass.
REAL_PASSES = {
    "sentinel-2a": (dt.date(2025, 5, 3), 8),  # S2A_MSIL2A_20250503T103701_N0511_R008_T32UNE
    "sentinel-2b": (dt.date(2026, 3, 19), 108),  # S2B_MSIL2A_20260319T103019_N0512_R108_T32UNE
    "sentinel-2c": (dt.date(2026, 3, 21), 65),  # S2C_MSIL2A_20260321T101721_N0512_R065_T32UNE
}
# Real absolute orbits: the tutorial's S2A product of 2025-06-05 (orbit 51), and the two above.
REAL_ABSOLUTE = {
    "sentinel-2a": (dt.date(2025, 6, 5), 51, 51971),
    "sentinel-2b": (dt.date(2026, 3, 19), 108, 47181),
    "sentinel-2c": (dt.date(2026, 3, 21), 65, 8043),
}
AOI_FIELD = (532200.0, 5929350.0)  # a winter-cereal parcel the chapter's area of interest uses
FOREST = (528000.0, 5936000.0)


def _day(record: catalog.ProductRecord) -> dt.date:
    return dt.date.fromisoformat(record.start_datetime[:10])


def test_the_data_file_is_what_the_generator_writes() -> None:
    tool = ROOT / "tests" / "tools" / "season_catalogue.py"
    done = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("date", settings.SUPPORTED_DATES)
def test_each_date_holds_20_to_30_acquisitions_of_the_six_months_before(date: str) -> None:
    held = [r for r in catalog.products_on(date) if r.mgrs_tile == "32UNE"]
    assert 20 <= len(held) <= 30
    first = dt.date.fromisoformat(date) - dt.timedelta(days=183)
    assert all(first <= _day(r) <= dt.date.fromisoformat(date) for r in held)
    assert {r.platform for r in held} >= {"sentinel-2b", "sentinel-2c"}


@pytest.mark.parametrize("record", SEASON, ids=lambda r: r.id[:26])
def test_dates_and_orbits_follow_the_repeat_cycle(record: catalog.ProductRecord) -> None:
    real_day, real_orbit = REAL_PASSES[record.platform]
    orbits_between = (record.relative_orbit - real_orbit) % 143
    days = (_day(record) - real_day).days
    # A satellite is back over an orbit every 10 days; another orbit n orbits later is flown
    # n x 10 / 143 days later (rounded to the day of the pass).
    assert (days - round(orbits_between * 10 / 143)) % 10 == 0
    # Absolute orbits count every orbit: 143 per cycle, in step with the relative orbit.
    ref_day, ref_orbit, ref_absolute = REAL_ABSOLUTE[record.platform]
    flown = record.absolute_orbit - ref_absolute
    assert flown % 143 == (record.relative_orbit - ref_orbit) % 143
    assert abs(flown - (_day(record) - ref_day).days * 14.3) < 143 / 2
    assert record.id.split("_")[4] == f"R{record.relative_orbit:03d}"
    assert record.start_datetime[11:19].replace(":", "") == record.id.split("_")[2][9:]


def _chunk(record: catalog.ProductRecord, path: str, index: tuple[int, int]) -> np.ndarray:
    store = zarr_store.open_store(record.id)
    assert store is not None
    spec = store.array_spec(path)
    assert spec is not None, path
    return scenes.chunk_values(record, spec, index)


def _reflectance(record: catalog.ProductRecord, band: str, res: int, index: tuple[int, int]):
    dn = _chunk(record, f"measurements/reflectance/r{res}m/{band}", index).astype(float)
    return np.where(dn == 0, np.nan, dn * 1e-4 - 0.1)


def _by_day(day: str) -> catalog.ProductRecord:
    (record,) = [r for r in SEASON if r.start_datetime.startswith(day)]
    return record


def test_scl_agrees_with_the_reflectances() -> None:
    record = _by_day("2026-09-15")  # 51 % cloud: clouds, shadows, lakes and fields in one chunk
    index = (3, 1)
    scl = _chunk(record, "conditions/mask/l2a_classification/r20m/scl", index)
    blue, red, nir = (_reflectance(record, b, 20, index) for b in ("b02", "b04", "b8a"))
    ndvi = (nir - red) / (nir + red)
    clear_land = np.isin(scl, (4, 5))
    for cls in (3, 4, 6, 8, 9):
        assert (scl == cls).sum() > 100, f"class {cls} missing from the test chunk"
    assert np.nanmean(blue[np.isin(scl, (8, 9))]) > 0.3  # clouds are bright
    for band in (blue, red, nir):  # shadows are darker than clear land in every band
        assert np.nanmedian(band[scl == 3]) < 0.8 * np.nanmedian(band[clear_land])
    assert np.nanmax(ndvi[scl == 6]) < 0.2  # water has a low NDVI
    assert np.nanpercentile(ndvi[scl == 4], 1) > 0.4  # SCL calls vegetation what is green


@pytest.mark.parametrize("day", ["2025-05-03", "2026-09-28", "2026-10-25"])
def test_cloud_cover_is_the_share_of_cloud_the_scl_shows(day: str) -> None:
    record = _by_day(day)
    path = "conditions/mask/l2a_classification/r60m/scl"
    scl = np.block([[_chunk(record, path, (i, j)) for j in range(6)] for i in range(6)])
    valid = scl != 0
    cloudy = np.isin(scl, (8, 9, 10)) & valid
    assert abs(100 * cloudy.sum() / valid.sum() - record.cloud_cover) < 8
    if record.relative_orbit == 8:  # orbit 8's swath ends inside the tile: no data east of it
        assert 0.3 < valid.mean() < 0.8 and not valid[:, -1].any()
    else:
        assert valid.all()


def _ndvi_at(record: catalog.ProductRecord, x: float, y: float) -> float:
    """Mean NDVI of the 5 x 5 pixels (20 m) around a UTM point; NaN unless SCL says clear."""
    col, row = int((x - 499980) // 20), int((6000000 - y) // 20)
    index = (row // 915, col // 915)
    near = (slice(row % 915 - 2, row % 915 + 3), slice(col % 915 - 2, col % 915 + 3))
    scl = _chunk(record, "conditions/mask/l2a_classification/r20m/scl", index)[near]
    if not np.isin(scl, (4, 5)).all():
        return float("nan")
    red = _reflectance(record, "b04", 20, index)[near]
    nir = _reflectance(record, "b8a", 20, index)[near]
    return float(np.mean((nir - red) / (nir + red)))


def test_crops_green_up_and_are_harvested_while_the_forest_stays() -> None:
    # Clear at both points on these dates (cloud cover 1.3, 2.0, 0.0 %).
    winter, spring, summer = _by_day("2025-03-17"), _by_day("2025-05-31"), _by_day("2026-07-17")
    assert _ndvi_at(winter, *AOI_FIELD) < 0.6 < _ndvi_at(spring, *AOI_FIELD)
    for record in (winter, spring, summer):
        assert _ndvi_at(record, *FOREST) > 0.62
    august = [r for r in SEASON if "2026-08-01" <= r.start_datetime[:10] <= "2026-09-05"]
    harvested = [v for v in (_ndvi_at(r, *AOI_FIELD) for r in august) if not np.isnan(v)]
    assert harvested and max(harvested) < 0.4  # the cereal is harvested in late July


@pytest.mark.parametrize("cut", SEASON[0].scene["clear_cuts"], ids=lambda c: c["on"])
def test_the_clear_cut_goes_bare_on_its_day(cut: dict) -> None:
    felled = dt.date.fromisoformat(cut["on"])
    xmin, ymin, xmax, ymax = cut["box"]
    centre = ((xmin + xmax) / 2, (ymin + ymax) / 2)
    near = [r for r in SEASON if abs((_day(r) - felled).days) < 120 and r.cloud_cover < 50]
    ndvi = {_day(r): _ndvi_at(r, *centre) for r in near}
    before = [v for day, v in ndvi.items() if day < felled and not np.isnan(v)]
    after = [v for day, v in ndvi.items() if day >= felled and not np.isnan(v)]
    assert len(before) >= 2 and len(after) >= 2, ndvi
    assert min(before) > 0.62 and max(after) < 0.4, ndvi
