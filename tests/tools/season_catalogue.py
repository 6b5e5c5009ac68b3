"""Write the season of tile T32UNE into the sample catalogue (records, generated from rules).

Why a generator: a season is about 25 products per catalogue date whose dates, orbits and ids
follow from a few facts of the real constellation; writing them by hand would invite a typo
that breaks the repeat cycle. The records are still data (``templates/catalogue/
sentinel-2-l2a-season-T32UNE.json``, loaded and checked by ``catalog.py`` like every other
record); this script only writes that file, and ``--check`` fails when the file is not what
the rules give (a unit test runs it). The rules and their sources are in the catalogue README.

Usage: ``python tests/tools/season_catalogue.py [--check]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "helpers/sample_service/templates/catalogue/sentinel-2-l2a-season-T32UNE.json"

TILE = "32UNE"
EPSG = 32632
UTM_ORIGIN = (499980, 6000000)  # proj:bbox of the real T32UNE items: [499980, 5890200, ...]
CYCLE_DAYS = 10
ORBITS_PER_CYCLE = 143

# Day on which each satellite flew relative orbit 8 (real products, /work/shared/reference:
# S2C 2025-05-01, S2A 2025-05-03, S2B 2025-05-06, each again every 10 days). Orbit R is flown
# (R - 8) mod 143 orbits later: orbit 108, 100 orbits = 7 days after orbit 8 (real: S2C
# 2025-05-08, S2A 2025-05-10, S2B 2025-05-13).
ORBIT_8_DAY = {
    "sentinel-2a": dt.date(2025, 5, 3),
    "sentinel-2b": dt.date(2025, 5, 6),
    "sentinel-2c": dt.date(2025, 5, 1),
}
# Datatake start times (UTC) of the real products of each orbit and satellite, same sources.
START_TIME = {
    (8, "sentinel-2a"): "10:37:01",
    (8, "sentinel-2b"): "10:36:29",
    (8, "sentinel-2c"): "10:36:41",
    (108, "sentinel-2a"): "10:30:31",
    (108, "sentinel-2b"): "10:25:59",
    (108, "sentinel-2c"): "10:26:21",
}
# One real absolute orbit per satellite: S2A 51971 (orbit 51, 2025-06-05), S2B 47181 (orbit
# 108, 2026-03-19), S2C 8043 (orbit 65, 2026-03-21).
ABSOLUTE_REFERENCE = {
    "sentinel-2a": (dt.date(2025, 6, 5), 51, 51971),
    "sentinel-2b": (dt.date(2026, 3, 19), 108, 47181),
    "sentinel-2c": (dt.date(2026, 3, 21), 65, 8043),
}
# When each satellite imaged the tile in its present phase: S2C took over from S2A on
# 2025-01-21; S2A, moved 36 degrees away from S2B between January and March 2025, is held
# from April 2025 (its extended campaign; the rest of the catalogue keeps it in 2026 too).
IN_SERVICE_FROM = {
    "sentinel-2a": dt.date(2025, 4, 1),
    "sentinel-2b": dt.date(2017, 3, 7),
    "sentinel-2c": dt.date(2025, 1, 21),
}
ORBITS = (108, 8)  # 108 covers the whole tile; 8 its western part (see SWATH below)
# Orbit 8's swath ends inside the tile: its eastern edge, two UTM points (south, north), lies
# 2 x 161.5 - 290 = 33 km across-track west of orbit 65's western edge, which the real
# S2C_MSIL2A_20260321T101721_N0512_R065_T32UNE footprint puts at (581515, 5889959) and
# (607430, 5995839): ground tracks 161.5 km apart across-track here (360/143 degrees of
# longitude at 53.6 N, times cos 13.75 degrees, the track's lean), swath 290 km.
SWATH = {
    108: {},
    8: {"swath_east_edge": [[547500.0, 5889959.0], [573415.0, 5995839.0]]},
}
SEASONS = {  # catalogue date -> (first day, baseline, CPM version)
    "2025-06-18": (dt.date(2024, 12, 18), "N0511", "cpm_v256"),
    "2026-11-29": (dt.date(2026, 5, 29), "N0512", "cpm_v270"),
}
KEEP_EVERY = 4
"""The sample holds one pass in four of each satellite on each orbit (one in 40 days)."""
STAGGER = {
    ("sentinel-2a", 8): 0,  # the real S2A_MSIL2A_20250503T103701_N0511_R008_T32UNE is held
    ("sentinel-2b", 8): 1,
    ("sentinel-2c", 8): 2,
    ("sentinel-2a", 108): 3,
    ("sentinel-2b", 108): 2,
    ("sentinel-2c", 108): 0,
}
"""Which pass in four each stream keeps, staggered so that the held dates spread evenly."""
CYCLE_ZERO = dt.date(2025, 5, 3)
KEPT_FOR_DAYS = 365
"""Assumed retention of the live archive for the season's products (removed a year later)."""
# The scene: land cover and the clear-cuts (UTM boxes [xmin, ymin, xmax, ymax]; felled on "on").
LAND_COVER = "farmland-forest"
CLEAR_CUTS = [
    {"box": [526700.0, 5935000.0, 527300.0, 5935400.0], "on": "2025-03-25"},
    {"box": [528600.0, 5933200.0, 529200.0, 5933700.0], "on": "2026-09-10"},
]


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little") / 2**32


def acquisitions(first: dt.date, last: dt.date) -> list[tuple[dt.date, str, int]]:
    """Every (day, platform, relative orbit) over the tile from ``first`` to ``last``."""
    found = []
    for platform, day8 in ORBIT_8_DAY.items():
        for orbit in ORBITS:
            offset = round(((orbit - 8) % ORBITS_PER_CYCLE) * CYCLE_DAYS / ORBITS_PER_CYCLE)
            day = day8 + dt.timedelta(days=offset)
            day -= dt.timedelta(days=CYCLE_DAYS * ((day - first).days // CYCLE_DAYS))
            while day <= last:
                if day >= max(first, IN_SERVICE_FROM[platform]):
                    found.append((day, platform, orbit))
                day += dt.timedelta(days=CYCLE_DAYS)
    return sorted(found, key=lambda a: (a[0], START_TIME[a[2], a[1]]))


def absolute_orbit(platform: str, day: dt.date, orbit: int) -> int:
    """The absolute orbit: the reference's, plus the orbits flown since (143 every 10 days)."""
    ref_day, ref_orbit, ref_absolute = ABSOLUTE_REFERENCE[platform]
    step = (orbit - ref_orbit) % ORBITS_PER_CYCLE
    days = (day - ref_day).days
    cycles = round((days * ORBITS_PER_CYCLE / CYCLE_DAYS - step) / ORBITS_PER_CYCLE)
    return ref_absolute + step + ORBITS_PER_CYCLE * cycles


def cloud_cover(product_id: str, day: dt.date) -> float:
    """A plausible cloud cover: north German winters are cloudier than summers."""
    winter = day.month in (11, 12, 1, 2)
    u = _unit("season-cloud", product_id)
    return round(100 * u ** (0.7 if winter else 1.3), 1)


def record(day: dt.date, platform: str, orbit: int, baseline: str, cpm: str) -> dict:
    clock = START_TIME[orbit, platform]
    stamp = f"{day:%Y%m%d}T{clock.replace(':', '')}"
    code = f"S2{platform[-1].upper()}"
    minutes = 180 + int(_unit("processing", code, stamp) * 180)
    sensed = dt.datetime.combine(day, dt.time.fromisoformat(clock))
    processed = sensed + dt.timedelta(minutes=minutes, seconds=minutes * 7 % 60)
    product_id = f"{code}_MSIL2A_{stamp}_{baseline}_R{orbit:03d}_T{TILE}_{processed:%Y%m%dT%H%M%S}"
    when = f"{day.isoformat()}T{clock}.024000Z"
    return {
        "id": product_id,
        "product_type": "S02MSIL2A",
        "platform": platform,
        "start_datetime": when,
        "end_datetime": when,
        "cpm_version": cpm,
        "epsg": EPSG,
        "utm_origin": list(UTM_ORIGIN),
        "mgrs_tile": TILE,
        "relative_orbit": orbit,
        "absolute_orbit": absolute_orbit(platform, day, orbit),
        "cloud_cover": cloud_cover(product_id, day),
        "scene": {"land_cover": LAND_COVER, "clear_cuts": CLEAR_CUTS, **SWATH[orbit]},
        "removed": (day + dt.timedelta(days=KEPT_FOR_DAYS)).isoformat(),
    }


def season_records() -> list[dict]:
    """The records of every season, newest first (as the other catalogue files list them)."""
    every = acquisitions(dt.date(2024, 12, 18), dt.date(2026, 11, 29))
    kept = [
        (day, platform, orbit)
        for day, platform, orbit in every
        if ((day - CYCLE_ZERO).days // CYCLE_DAYS + STAGGER[platform, orbit]) % KEEP_EVERY == 0
    ]
    records = []
    for date, (first, baseline, cpm) in SEASONS.items():
        last = dt.date.fromisoformat(date)
        for day, platform, orbit in kept:
            if first <= day <= last:
                records.append(record(day, platform, orbit, baseline, cpm))
    return sorted(records, key=lambda r: r["start_datetime"], reverse=True)


def document() -> str:
    body = {
        "collection": "sentinel-2-l2a",
        "generated_by": "tests/tools/season_catalogue.py (rules and sources in README.md)",
        "products": season_records(),
    }
    return json.dumps(body, indent=1) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = document()
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.name} is not what the rules give: run {Path(__file__).name}")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(json.loads(text)['products'])} records to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
