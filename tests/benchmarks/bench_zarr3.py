"""Zarr v3 (staging collection) against Zarr v2 (sentinel-2-l2a): one product, both stores.

Why: chapter 10 claims that the v3 store opens from one consolidated document, that its
overviews make a whole-scene picture cheap, and that a whole band read through a shard costs
no more than through v2 chunks. Each figure here is a ratio of the two measured in the same
run, on the same product of the sample service's catalogue of today:

- requests and bytes to open the whole tree (``xr.open_datatree``, ``chunks={}``);
- bytes of a whole-scene RGB (b04, b03, b02) from the coarsest level with at least 300 pixels
  against the same RGB from r60m;
- seconds to read one whole r10m band (b04) through its shard against through v2 chunks,
  best of three after a warm-up read (so both stores' caches are filled first).

The service runs in this process (`ThreadedServer`), with the book's shared cache. Read the
time ratio with the service in mind: it checks a v2 chunk's SHA-256 on every read (small cache
entries) and a shard's once per change of its file, so part of the v2 time is the service's.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import xarray as xr

from helpers.sample_service import catalog, settings, zarr3_catalog
from helpers.sample_service.launcher import ThreadedServer
from helpers.traffic import TrafficMeter, install

FIGURE_PIXELS = 300
REPEATS = 3
R10M = "measurements/reflectance/r10m"


def _open_cost(href: str, **kwargs: Any) -> TrafficMeter:
    with TrafficMeter() as meter:
        xr.open_datatree(href, engine="zarr", chunks={}, **kwargs)
    return meter


def _rgb_bytes(href: str, level: str) -> int:
    ds = xr.open_dataset(
        href, engine="zarr", group=f"measurements/reflectance/{level}", zarr_format=3, chunks={}
    )
    with TrafficMeter() as meter:
        ds[["b04", "b03", "b02"]].to_dataarray("band").compute()
    return meter.bytes_downloaded


def _band_seconds(href: str, **kwargs: Any) -> float:
    ds = xr.open_dataset(href, engine="zarr", group=R10M, chunks={}, **kwargs)
    ds["b04"].compute()  # warm-up: the service's caches are filled, not timed
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        ds["b04"].compute()
        best = min(best, time.perf_counter() - started)
    return best


def measure() -> list[dict[str, Any]]:
    install()
    record = zarr3_catalog.records_on(settings.CURRENT_DATE)[0]
    original = catalog.get_product(record.id)
    assert original is not None
    figures: list[dict[str, Any]] = []
    with warnings.catch_warnings(), ThreadedServer() as server:
        warnings.simplefilter("ignore")
        root = f"{server.url}{settings.CURRENT_DATE}/"
        v2_href = root + catalog.product_path(original)
        v3_href = root + zarr3_catalog.store_path(record)

        v2_open, v3_open = _open_cost(v2_href), _open_cost(v3_href, zarr_format=3)
        detail = (
            f"v3 {v3_open.requests} requests, {v3_open.bytes_downloaded / 1e6:.2f} MB; "
            f"v2 {v2_open.requests} requests, {v2_open.bytes_downloaded / 1e6:.2f} MB"
        )
        requests = v3_open.requests / v2_open.requests
        size = v3_open.bytes_downloaded / v2_open.bytes_downloaded
        figures.append(_figure("zarr3: open requests, v3 / v2", requests, 0.5, detail))
        figures.append(_figure("zarr3: open bytes, v3 / v2", size, 2.0, detail))

        layout = xr.open_datatree(v3_href, engine="zarr", zarr_format=3)
        entries = layout["measurements/reflectance"].attrs["multiscales"]["layout"]
        pixels = {entry["asset"]: entry["spatial:shape"][0] for entry in entries}
        best = min((n for n, p in pixels.items() if p >= FIGURE_PIXELS), key=pixels.get)
        best_bytes, r60m_bytes = _rgb_bytes(v3_href, best), _rgb_bytes(v3_href, "r60m")
        detail = f"{best} {best_bytes / 1e3:.0f} kB; r60m {r60m_bytes / 1e3:.0f} kB"
        ratio = best_bytes / r60m_bytes
        figures.append(_figure("zarr3: RGB bytes, best overview / r60m", ratio, 0.1, detail))

        v2_s, v3_s = _band_seconds(v2_href), _band_seconds(v3_href, zarr_format=3)
        detail = f"shard {v3_s:.2f} s; v2 chunks {v2_s:.2f} s (best of {REPEATS})"
        figures.append(_figure("zarr3: r10m band time, shard / v2", v3_s / v2_s, 1.2, detail))
    return figures


def _figure(name: str, value: float, limit: float, detail: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "target": f"<= {limit}",
        "ok": value <= limit,
        "detail": detail,
    }
