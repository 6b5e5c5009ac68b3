"""Eight readers at once for 30 seconds: no errors, steady memory, and what it costs in latency.

Why: a notebook, the test suite and a reader's own session may all read from one sample service
at the same time. This runs the service as its own process (as the launcher does), on a free
loopback port, and measures it three ways, each as a ratio in the same run:

- failed requests / requests under load (target 0: every answer complete and 200);
- p95 latency with 8 concurrent clients / p95 latency with one client (8 clients sharing a
  service that did no work concurrently would give about 8);
- the service's resident memory after the 30 s of load / before it (bounded growth: the chunk
  cache lives on disk, so nothing should accumulate in memory).

Each client reads its own band's chunks (Sentinel-2 L2A, 20 m, 36 chunks of 915 x 915 each) in
a loop over one keep-alive connection, checking every body against its ``Content-Length``.
Every chunk is read once before measuring, so the figures are about serving, not about
generating synthetic chunks the first time.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from helpers.sample_service import catalog

REPO = Path(__file__).resolve().parents[2]
PRODUCT = catalog.get_product("S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252")
BANDS = ("b02", "b03", "b04", "b05", "b06", "b07", "b8a", "b11")  # one per client
CLIENTS = len(BANDS)
LOAD_SECONDS = 30.0
SINGLE_SECONDS = 5.0
P95_RATIO_TARGET = 8.0
RSS_RATIO_TARGET = 1.5


def _keys(band: str) -> list[str]:
    root = "/" + catalog.product_path(PRODUCT)
    return [
        f"{root}/measurements/reflectance/r20m/{band}/{i}.{j}" for i in range(6) for j in range(6)
    ]


@dataclass
class _Tally:
    attempts: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _read_loop(port: int, keys: list[str], until: float, tally: _Tally) -> None:
    """Read ``keys`` round and round over one connection until the clock passes ``until``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    index = 0
    try:
        while time.perf_counter() < until:
            key = keys[index % len(keys)]
            index += 1
            tally.attempts += 1
            started = time.perf_counter()
            try:
                connection.request("GET", key)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                tally.errors.append(f"{key}: {type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            tally.latencies.append(time.perf_counter() - started)
            expected = int(response.getheader("Content-Length", "-1"))
            if response.status != 200 or len(body) != expected:
                tally.errors.append(f"{key}: HTTP {response.status}, {len(body)}/{expected} B")
    finally:
        connection.close()


def _run_clients(port: int, bands: tuple[str, ...], seconds: float) -> list[_Tally]:
    until = time.perf_counter() + seconds
    tallies = [_Tally() for _ in bands]
    threads = [
        threading.Thread(target=_read_loop, args=(port, _keys(band), until, tally), daemon=True)
        for band, tally in zip(bands, tallies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return tallies


def _p95(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=20)[-1]


class _Service:
    """``python -m helpers.sample_service --background`` on a free port, stopped by its pid."""

    def __init__(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as probe:
            self.port = probe.getsockname()[1]
        env = {**os.environ, "EOPF_SAMPLE_IDLE_SECONDS": "300"}
        env.pop("EOPF_SAMPLE_FAULTS", None)  # a benchmark of serving, not of faults
        command = [sys.executable, "-m", "helpers.sample_service", "--background"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline().decode()
        if str(self.port) not in banner:
            self.stop()
            raise RuntimeError(f"the sample service did not start: {banner.strip()}")

    def rss(self) -> int:
        return psutil.Process(self.process.pid).memory_info().rss

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def measure() -> list[dict]:
    service = _Service()
    try:
        for band in BANDS:  # every chunk once: generated (or found in the cache) before timing
            _warm(service.port, band)
        single = _run_clients(service.port, BANDS[:1], SINGLE_SECONDS)[0]
        rss_before = service.rss()
        started = time.perf_counter()
        tallies = _run_clients(service.port, BANDS, LOAD_SECONDS)
        elapsed = time.perf_counter() - started
        rss_after = service.rss()
    finally:
        service.stop()

    latencies = [t for tally in tallies for t in tally.latencies]
    errors = [e for tally in tallies for e in tally.errors]
    requests = sum(tally.attempts for tally in tallies)
    rate = len(latencies) / elapsed
    single_rate = len(single.latencies) / SINGLE_SECONDS
    p95_load, p95_single = _p95(latencies), _p95(single.latencies)
    p95_ratio = p95_load / p95_single
    rss_ratio = rss_after / rss_before
    load = f"{CLIENTS} clients x {LOAD_SECONDS:g} s"
    return [
        {
            "name": f"load: failed requests / requests ({load})",
            "value": len(errors) / max(requests, 1),
            "target": "== 0",
            "ok": not errors,
            "detail": f"{len(errors)} of {requests}" + (f"; first: {errors[0]}" if errors else ""),
        },
        {
            "name": f"load: p95 latency, {load} / 1 client",
            "value": p95_ratio,
            "target": f"<= {P95_RATIO_TARGET:g}",
            "ok": p95_ratio <= P95_RATIO_TARGET,
            "detail": (
                f"p95 {p95_load * 1e3:.1f} ms under load, {p95_single * 1e3:.1f} ms alone; "
                f"{rate:.0f} requests/s under load, {single_rate:.0f} requests/s alone"
            ),
        },
        {
            "name": f"load: service RSS after / before {load}",
            "value": rss_ratio,
            "target": f"<= {RSS_RATIO_TARGET:g}",
            "ok": rss_ratio <= RSS_RATIO_TARGET,
            "detail": f"{rss_before / 1e6:.0f} MB before, {rss_after / 1e6:.0f} MB after",
        },
    ]


def _warm(port: int, band: str) -> None:
    """Read each chunk of ``band`` once; any failure here ends the benchmark."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        for key in _keys(band):
            connection.request("GET", key)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"warm-up: {key} answered HTTP {response.status}")
    finally:
        connection.close()
