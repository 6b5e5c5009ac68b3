"""Gridding two variables of a swath: the helper's one triangulation against ``griddata`` twice.

The tutorial grids each variable with ``scipy.interpolate.griddata``, which triangulates the
swath again on every call. ``helpers.gridding.SwathGrid`` triangulates once and reuses it. Both
run here on the same synthetic swaths and the same lon/lat grid (the tutorial's 0.01 degree),
timed as the best of a few repetitions; the figure is helper time / griddata time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy.interpolate import griddata

from helpers.gridding import SwathGrid

TARGET = 0.6
REPEATS = 3
RESOLUTION = 0.01  # degrees, as in the tutorial


def _swath(
    shape: tuple[int, int], spacing_km: float, centre: tuple[float, float], heading_deg: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latitude, longitude and two smooth fields of a swath tilted like a polar orbit's."""
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    heading = np.deg2rad(heading_deg)
    across = (cols - shape[1] / 2) * spacing_km
    along = (rows - shape[0] / 2) * spacing_km
    east = across * np.cos(heading) + along * np.sin(heading)
    north = -across * np.sin(heading) + along * np.cos(heading)
    lon0, lat0 = centre
    lat = lat0 + north / 111.2
    lon = lon0 + east / (111.2 * np.cos(np.deg2rad(lat)))
    speed = 8 + 3 * np.sin(lon * 3) * np.cos(lat * 2)
    direction = (200 + 60 * np.sin(lat * 4) + 40 * np.cos(lon * 5)) % 360
    return lat, lon, speed.astype("f4"), direction.astype("f4")


def _best(run: Callable[[], list[np.ndarray]]) -> tuple[float, list[np.ndarray]]:
    """Best wall time of a few runs, and the last run's result (to check the two agree)."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def _compare(label: str, shape: tuple[int, int], spacing_km: float) -> dict:
    lat, lon, speed, direction = _swath(shape, spacing_km, (-20.0, 40.0), heading_deg=-12.0)

    def helper() -> list[np.ndarray]:
        grid = SwathGrid.from_swath(lat, lon, crs="EPSG:4326", resolution=RESOLUTION)
        return [grid.interpolate(v).values for v in (speed, direction)]

    grid = SwathGrid.from_swath(lat, lon, crs="EPSG:4326", resolution=RESOLUTION)
    lon_mesh, lat_mesh = np.meshgrid(grid.x, grid.y)
    points = np.column_stack([lat.ravel(), lon.ravel()])  # (lat, lon) order, as the tutorial

    def per_variable() -> list[np.ndarray]:
        return [
            griddata(points, v.ravel(), (lat_mesh, lon_mesh), method="linear")
            for v in (speed, direction)
        ]

    helper_s, ours = _best(helper)
    griddata_s, theirs = _best(per_variable)
    both = np.isfinite(ours[0]) & np.isfinite(theirs[0])
    difference = max(
        float(np.abs(a[both] - b[both]).max()) for a, b in zip(ours, theirs, strict=True)
    )
    ratio = helper_s / griddata_s
    return {
        "name": f"gridding: 2 variables, reused triangulation / griddata per variable ({label})",
        "value": round(ratio, 3),
        "target": f"<= {TARGET}",
        "ok": ratio <= TARGET,
        "detail": (
            f"{shape[0]}x{shape[1]} swath onto {grid.shape[0]}x{grid.shape[1]} cells of "
            f"{RESOLUTION} deg: helper {helper_s:.3f} s, griddata x2 {griddata_s:.3f} s "
            f"(best of {REPEATS}); max |difference| {difference:.1e} (float32 values)"
        ),
    }


def measure() -> list[dict]:
    """Two swaths: Sentinel-1 OCN owi size, and a Sentinel-3 OLCI subset of 300 000 pixels."""
    return [
        _compare("S1 OCN 167x255", (167, 255), spacing_km=1.0),
        _compare("S3 OLCI subset 600x500", (600, 500), spacing_km=0.3),
    ]


if __name__ == "__main__":
    for figure in measure():
        print(figure)
