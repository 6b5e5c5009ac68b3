"""Tests of `helpers.memory`: figures of a statement measured in a fresh process.

The statements allocate known amounts (NumPy arrays of a given size) so every assertion has an
expected value; margins allow for the interpreter's own small allocations.
"""

from __future__ import annotations

import pytest

from helpers.errors import EOPFBookError
from helpers.memory import MeasurementError, MemoryUse, measure_memory

MB = 1_000_000
SETUP = "import numpy as np"


@pytest.fixture(scope="module")
def kept() -> MemoryUse:
    """An array of 80 MB made and kept, so it is still resident after the statement."""
    return measure_memory("a = np.ones(10_000_000)\nresult = a.sum()", setup=SETUP)


@pytest.fixture(scope="module")
def freed() -> MemoryUse:
    """The same array, reduced and then freed with `del` inside the statement."""
    return measure_memory("a = np.ones(10_000_000)\nresult = a.sum()\ndel a", setup=SETUP)


def test_peak_counts_the_array(kept: MemoryUse) -> None:
    assert 80 * MB <= kept.peak_bytes < 90 * MB


def test_rss_sees_the_array(kept: MemoryUse) -> None:
    assert 75 * MB <= kept.rss_peak_bytes < 120 * MB


def test_result_comes_back_as_a_plain_number(kept: MemoryUse) -> None:
    assert kept.result == 10_000_000.0
    assert isinstance(kept.result, float)


def test_kept_array_is_retained_and_a_freed_one_is_not(kept: MemoryUse, freed: MemoryUse) -> None:
    assert kept.rss_retained_bytes >= 75 * MB
    assert freed.rss_retained_bytes < 20 * MB
    # Freeing after the reduction does not lower the peak: the array existed at full size.
    assert freed.peak_bytes >= 80 * MB


def test_chunked_reduction_has_a_smaller_peak() -> None:
    """Summing in ten slices of 8 MB never holds the whole 80 MB."""
    chunked = measure_memory(
        "result = sum(np.ones(1_000_000).sum() for _ in range(10))", setup=SETUP
    )
    assert chunked.result == 10_000_000.0
    assert chunked.peak_bytes < 20 * MB


def test_setup_is_not_measured() -> None:
    use = measure_memory("result = big.size", setup=SETUP + "\nbig = np.ones(10_000_000)")
    assert use.result == 10_000_000
    assert use.peak_bytes < 5 * MB


def test_without_tracing_peak_is_zero_but_rss_is_measured() -> None:
    use = measure_memory("a = np.ones(10_000_000)", setup=SETUP, trace=False)
    assert use.peak_bytes == 0
    assert use.rss_peak_bytes >= 75 * MB


def test_summary_names_the_figures(kept: MemoryUse) -> None:
    text = kept.summary()
    assert text.startswith(f"peak {kept.peak_mb:.1f} MB allocated")
    assert "retained" in text


def test_a_failing_statement_is_one_line_project_error() -> None:
    with pytest.raises(MeasurementError, match=r"NameError: name 'undefined_name'") as info:
        measure_memory("result = undefined_name + 1")
    assert isinstance(info.value, EOPFBookError)
    assert "\n" not in str(info.value)


def test_a_statement_that_hangs_times_out() -> None:
    with pytest.raises(MeasurementError, match="did not finish within 2 s"):
        measure_memory("import time\ntime.sleep(30)", timeout=2)


def test_peak_rss_after_reset_sees_a_freed_array() -> None:
    """The kernel's peak count restarts at the reset and keeps an array that is already freed.

    Run in a fresh process: in the long-lived test process, other tests' background threads
    (fsspec's event loop, dask pools) free memory at any moment and blur the figures.
    """
    import subprocess
    import sys

    assert sys.platform == "linux", "the book's machines are Linux; this test reads /proc"
    code = (
        "import numpy as np, psutil\n"
        "from helpers.memory import peak_rss_bytes, reset_peak_rss\n"
        "MB = 1_000_000\n"
        "assert reset_peak_rss() is True\n"
        "before = psutil.Process().memory_info().rss\n"
        "assert peak_rss_bytes() < before + 20 * MB, 'the reset did not forget earlier peaks'\n"
        "array = np.ones(10_000_000)\n"
        "del array\n"
        "assert peak_rss_bytes() >= before + 75 * MB, 'the freed array is not in the peak'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
