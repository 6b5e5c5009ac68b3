"""The sample service against local disk: opening the S2 product, and reading one whole 10 m band.

Why: the book's figures of requests, bytes and time are only meaningful if the sample service
is a fair stand-in for object storage, not a bottleneck of its own. Each figure is measured in
the same run against the same bytes read from a local directory store (the keys the HTTP read
fetched, copied to disk), so the ratio says what HTTP through the service adds.

The service runs in its own process (as `make serve` and the chapters run it), on a free
loopback port, with a fresh chunk cache; chunks are generated once before any clock starts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import xarray as xr

from helpers.sample_service import catalog, launcher
from helpers.sample_service.zarr_store import open_store
from helpers.traffic import TrafficMeter

PRODUCT_ID = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
BAND_GROUP = "measurements/reflectance/r10m"
KWARGS: dict[str, Any] = {"engine": "eopf-zarr", "op_mode": "native", "chunks": {}}
REPEATS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_service(cache: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "EOPF_SAMPLE_PORT": str(port), "EOPF_SAMPLE_CACHE": str(cache)}
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.sample_service"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while launcher.probe(port) != "ours":
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the sample service did not start on port {port}")
        time.sleep(0.2)
    return process, f"http://127.0.0.1:{port}/"


def _copy_keys(keys: list[str], destination: Path) -> int:
    """Write the given store keys, as the service serves them, into a directory store.

    Keys the service answered 404 (zarr probing for an array where there is a group) stay
    missing on disk too.
    """
    store = open_store(PRODUCT_ID)
    assert store is not None
    written = 0
    for key in keys:
        data = store.get(key)
        if data is None:
            continue
        path = destination / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += len(data)
    return written


def _best(action) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def measure() -> list[dict]:
    record = catalog.get_product(PRODUCT_ID)
    assert record is not None
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        service, base = _start_service(Path(tmp) / "cache")
        try:
            href = catalog.product_href(record, base)
            band_href = f"{href}/{BAND_GROUP}"
            # Warm the service (metadata and the band's chunks generated once, outside clocks).
            xr.open_datatree(href, **KWARGS).close()
            xr.open_dataset(band_href, **KWARGS)["b08"].mean().compute()

            with TrafficMeter() as open_meter:
                xr.open_datatree(href, **KWARGS).close()
            with TrafficMeter() as band_meter:
                xr.open_dataset(band_href, **KWARGS)["b08"].mean().compute()
            prefix = href.split("://", 1)[1].split("/", 1)[1] + "/"

            def store_keys(meter: TrafficMeter) -> list[str]:
                return sorted({path.split(prefix, 1)[1] for path in meter.keys if prefix in path})

            local = Path(tmp) / f"{PRODUCT_ID}.zarr"
            _copy_keys(store_keys(open_meter), local)
            _copy_keys(store_keys(band_meter), local)

            http_open = _best(lambda: xr.open_datatree(href, **KWARGS).close())
            disk_open = _best(lambda: xr.open_datatree(str(local), **KWARGS).close())

            def read_band(root: str) -> None:
                xr.open_dataset(f"{root}/{BAND_GROUP}", **KWARGS)["b08"].mean().compute()

            http_band = _best(lambda: read_band(href))
            disk_band = _best(lambda: read_band(str(local)))
        finally:
            service.terminate()
            service.wait(timeout=30)

    band_mb = band_meter.bytes_downloaded / 1e6
    return [
        {
            "name": "service: open the S2 product DataTree, service / local disk (time)",
            "value": http_open / disk_open,
            "target": "<= 1.5",
            "ok": http_open / disk_open <= 1.5,
            "detail": (
                f"{http_open:.2f} s vs {disk_open:.2f} s; {open_meter.requests} requests, "
                f"{open_meter.bytes_downloaded / 1e6:.2f} MB"
            ),
        },
        {
            "name": "service: read one full 10 m band, service / local disk (time)",
            "value": http_band / disk_band,
            "target": "<= 2.0",
            "ok": http_band / disk_band <= 2.0,
            "detail": (
                f"{band_mb / http_band:.0f} MB/s through the service vs "
                f"{band_mb / disk_band:.0f} MB/s from disk; {band_meter.requests} requests, "
                f"{band_mb:.1f} MB"
            ),
        },
    ]
