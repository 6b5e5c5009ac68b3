"""Benchmark: the scene mean of b08 computed lazily with dask, against loading the band first.

Why: the optimisation chapter's advice is "compute lazily": a dask reduction holds a few chunks at
a time instead of the whole decoded band, and should not be slower for it. Both variants run the
reader's code from ``book/07_optimisations.md`` in fresh processes (``helpers.memory``), against
the sample service, in the same run:

- peak memory: lazy / eager, as counted by tracemalloc (Python and NumPy allocations), target
  <= 0.25;
- time: lazy / eager, best of three runs each without tracing (so tracing does not slow either),
  target <= 1.0.
"""

from __future__ import annotations

from helpers.data_source import stac_root_url
from helpers.memory import MemoryUse, measure_memory

ITEM_ID = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
MEMORY_TARGET = 0.25
TIME_TARGET = 1.0
REPEATS = 3

EAGER = "in_memory = b08.compute()\nresult = float(in_memory.mean())"
LAZY = "result = float(b08.mean().compute())"


def _setup(stac_url: str) -> str:
    """Open the band as the chapter does (not measured)."""
    return f"""
import xarray as xr
from pystac_client import Client
item = Client.open({stac_url!r}).get_collection("sentinel-2-l2a").get_item({ITEM_ID!r})
asset = item.assets["product"]
dt = xr.open_datatree(asset.href, **asset.extra_fields["xarray:open_datatree_kwargs"])
b08 = dt["/measurements/reflectance/r10m"]["b08"]
"""


def _best_time(runs: list[MemoryUse]) -> float:
    return min(run.seconds for run in runs)


def measure() -> list[dict]:
    """Peak memory and time of the lazy scene mean relative to the eager one."""
    setup = _setup(stac_root_url())
    eager = measure_memory(EAGER, setup=setup)
    lazy = measure_memory(LAZY, setup=setup)
    if abs(eager.result - lazy.result) > 1e-9:
        raise RuntimeError(f"eager and lazy means differ: {eager.result} != {lazy.result}")
    eager_runs: list[MemoryUse] = []
    lazy_runs: list[MemoryUse] = []
    for _ in range(REPEATS):  # interleaved, so a slow spell of the machine hits both
        eager_runs.append(measure_memory(EAGER, setup=setup, trace=False))
        lazy_runs.append(measure_memory(LAZY, setup=setup, trace=False))
    memory_ratio = lazy.peak_bytes / eager.peak_bytes
    time_ratio = _best_time(lazy_runs) / _best_time(eager_runs)
    return [
        {
            "name": "memory: lazy (dask) / eager scene mean, peak memory",
            "value": memory_ratio,
            "target": f"<= {MEMORY_TARGET}",
            "ok": memory_ratio <= MEMORY_TARGET,
            "detail": (
                f"peak allocated {lazy.peak_mb:.0f} MB lazy, {eager.peak_mb:.0f} MB eager; "
                f"RSS rise {lazy.rss_peak_mb:.0f} MB lazy, {eager.rss_peak_mb:.0f} MB eager"
            ),
        },
        {
            "name": "memory: lazy (dask) / eager scene mean, time",
            "value": time_ratio,
            "target": f"<= {TIME_TARGET}",
            "ok": time_ratio <= TIME_TARGET,
            "detail": (
                f"best of {REPEATS}: {_best_time(lazy_runs):.2f} s lazy, "
                f"{_best_time(eager_runs):.2f} s eager"
            ),
        },
    ]
