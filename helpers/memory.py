"""How much memory did that computation need? Measure it in a fresh Python process.

Why this module exists: the optimisation chapters compare the peak memory of one computation
written three ways (load then reduce, reduce lazily with dask, slice first). Measured inside the
notebook, such figures mix the computation with everything the kernel already holds: imported
modules, earlier arrays, caches, and memory the allocator keeps after it was freed. A fresh
interpreter that runs only a setup and then the statement gives a clean, repeatable figure, as
``timeit`` does for time (and like ``timeit`` it takes the code as strings, because a fresh
process cannot receive objects that live in the notebook).

Two figures, because they answer different questions:

- ``peak_bytes``: the largest amount of memory Python and NumPy had allocated at once while the
  statement ran, counted by :mod:`tracemalloc` (NumPy reports its array buffers to it). It is
  exact and not disturbed by the allocator, so it is the figure to compare.
- ``rss_peak_bytes``: how far the process's resident memory rose, as the operating system sees
  it (sampled with psutil; on Linux also the kernel's own high-water mark). It includes buffers
  of C libraries and memory the allocator keeps, i.e. what a machine must actually provide.

``rss_retained_bytes`` says how much of that rise was still held after the statement and a
garbage collection: what freeing references (``del``) gives back.

For processes that already run, such as Dask workers, :func:`reset_peak_rss` and
:func:`peak_rss_bytes` read the operating system's own peak count before and after a
computation (``client.run(reset_peak_rss)``, compute, ``client.run(peak_rss_bytes)``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import EOPFBookError

_SAMPLE_INTERVAL_S = 0.002
"""RSS sampling period: short enough to see an array that lives for a few milliseconds."""


class MeasurementError(EOPFBookError):
    """The measured code failed (or timed out) in its subprocess."""


@dataclass(frozen=True)
class MemoryUse:
    """Memory and time of one statement, measured in a fresh process."""

    peak_bytes: int
    """Peak of memory allocated by Python and NumPy during the statement (0 without tracing)."""
    rss_peak_bytes: int
    """Peak rise of the process's resident memory during the statement."""
    rss_retained_bytes: int
    """Resident memory still held after the statement and a garbage collection."""
    seconds: float
    """Wall-clock time of the statement alone (tracing slows Python-heavy code)."""
    result: Any
    """The value the statement left in a variable named ``result`` (NumPy scalars as numbers)."""

    @property
    def peak_mb(self) -> float:
        """``peak_bytes`` in MB (10^6 bytes), for tables and prose."""
        return self.peak_bytes / 1e6

    @property
    def rss_peak_mb(self) -> float:
        """``rss_peak_bytes`` in MB (10^6 bytes)."""
        return self.rss_peak_bytes / 1e6

    def summary(self) -> str:
        """One line: ``peak 124.2 MB allocated (RSS +233.4 MB, 115.3 MB retained) in 7.32 s``."""
        return (
            f"peak {self.peak_mb:.1f} MB allocated (RSS +{self.rss_peak_mb:.1f} MB, "
            f"{self.rss_retained_bytes / 1e6:.1f} MB retained) in {self.seconds:.2f} s"
        )


def measure_memory(
    statement: str, setup: str = "", *, trace: bool = True, timeout: float = 600.0
) -> MemoryUse:
    """Run ``setup`` then ``statement`` in a new Python process and measure the statement.

    ``setup`` (imports, opening a dataset) is not measured. ``statement`` may set a variable
    named ``result``; its value comes back in :attr:`MemoryUse.result`. With ``trace=False``
    tracemalloc stays off, so the time is not slowed by tracing (``peak_bytes`` is then 0).
    Raises :class:`MeasurementError` with the subprocess's own one-line error if the code fails.
    """
    job = {"setup": setup, "statement": statement, "trace": trace}
    with tempfile.TemporaryDirectory(prefix="measure-memory-") as folder:
        job_path = Path(folder) / "job.json"
        out_path = Path(folder) / "out.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        command = [sys.executable, "-m", "helpers.memory", str(job_path), str(out_path)]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        except subprocess.TimeoutExpired:
            raise MeasurementError(
                f"the measured code did not finish within {timeout:.0f} s"
            ) from None
        if not out_path.exists():
            raise MeasurementError(_last_error_line(done.stderr, done.returncode))
        figures = json.loads(out_path.read_text(encoding="utf-8"))
    if "error" in figures:
        raise MeasurementError(f"the measured code failed in its subprocess: {figures['error']}")
    return MemoryUse(**figures)


def _last_error_line(stderr: str, returncode: int) -> str:
    """The one line of a crashed subprocess's stderr that names the error."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    detail = lines[-1] if lines else f"exit code {returncode}"
    return f"the measuring subprocess failed: {detail}"


# --- the subprocess side ----------------------------------------------------------------------


def reset_peak_rss() -> bool:
    """Restart the operating system's count of this process's peak resident memory.

    Linux only (``/proc/self/clear_refs``, where the container allows it); returns False where
    it cannot, and :func:`peak_rss_bytes` then counts from the start of the process. Useful in
    a long-lived process such as a Dask worker: ``client.run(reset_peak_rss)`` before a
    computation, ``client.run(peak_rss_bytes)`` after it.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _high_water_mark() > 0


def peak_rss_bytes() -> int:
    """Peak resident memory of this process since :func:`reset_peak_rss` (or since it started)."""
    mark = _high_water_mark()
    if mark:
        return mark
    import resource  # not on Windows; there psutil's peak working set is the equivalent

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # macOS: bytes, Linux: KiB


def _high_water_mark() -> int:
    """The kernel's peak resident memory of this process (VmHWM) in bytes; 0 where unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _RssSampler:
    """Sample the process's resident memory in a thread and keep the highest value seen.

    Why sample as well as read the kernel's high-water mark: the mark can only be reset where
    ``/proc/self/clear_refs`` is writable (Linux, not every container); sampling works
    everywhere, and where both work the higher of the two is kept.
    """

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self._stop = threading.Event()
        self.highest = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._mark_reset = False

    def rss(self) -> int:
        return int(self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(_SAMPLE_INTERVAL_S):
            self.highest = max(self.highest, self.rss())

    def __enter__(self) -> _RssSampler:
        self._mark_reset = reset_peak_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.highest = max(self.highest, self.rss())
        if self._mark_reset:
            self.highest = max(self.highest, _high_water_mark())


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a result: NumPy and xarray scalars become Python numbers."""
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:
        value = value.item()
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _child(job_path: str, out_path: str) -> None:
    import gc
    import tracemalloc

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__measured__"}
    try:
        exec(job["setup"], namespace)
        gc.collect()
        with _RssSampler() as sampler:
            before = sampler.rss()
            if job["trace"]:
                tracemalloc.start()
            started = time.perf_counter()
            exec(job["statement"], namespace)
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if job["trace"] else 0
            tracemalloc.stop()
        gc.collect()
        figures = {
            "peak_bytes": int(peak),
            "rss_peak_bytes": max(0, sampler.highest - before),
            "rss_retained_bytes": max(0, sampler.rss() - before),
            "seconds": seconds,
            "result": _plain(namespace.get("result")),
        }
    except Exception as error:  # reported to the parent as one line, not a traceback
        figures = {"error": f"{type(error).__name__}: {error}"}
    Path(out_path).write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
