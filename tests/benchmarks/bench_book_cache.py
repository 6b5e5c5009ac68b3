"""Benchmark: a book rebuild from the execution cache, against a clean build of the same book.

Why: the book executes every chapter at each build, which takes minutes; Jupyter Book's execution
cache (``execute_notebooks: cache``) is what keeps an edit-and-rebuild loop short. The figure is
the time of a full rebuild (``--all``: every page re-rendered, notebooks taken from the cache)
divided by the time of a clean build (empty cache, every notebook executed), both of the same
sources in the same run. Target: <= 0.1.

The two builds run on a copy of the book under ``_build/bench-book/`` with its own execution
cache, so they neither use nor disturb ``_build/html`` and ``_build/.jupyter_cache`` of
``make book``. This benchmark is slow (it executes the whole book once); set
``EOPF_BENCH_SKIP_BOOK=1`` to skip it, which it then says instead of reporting a figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "_build" / "bench-book"
SKIP_VARIABLE = "EOPF_BENCH_SKIP_BOOK"
TARGET = 0.1
# Everything the book build reads is at the top of the repository; these are outputs, caches,
# environments and code (helpers is imported from the installed package, tests are not pages).
_NOT_BOOK = (".git", ".venv", "_build", ".cache", ".pytest_cache", ".ruff_cache", "__pycache__")


def _copy_book() -> tuple[Path, Path]:
    """A fresh copy of the book sources whose execution cache lives in the work folder."""
    if WORK.exists():
        shutil.rmtree(WORK)
    source = WORK / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*_NOT_BOOK))
    cache = WORK / "jupyter_cache"
    config_path = source / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    # An absolute path: myst-nb resolves the cache against the working directory.
    config.setdefault("execute", {})["cache"] = str(cache)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return source, cache


def _build(source: Path, *, all_pages: bool) -> float:
    """Build the copy into ``_build/bench-book/out`` and return the wall-clock seconds."""
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(source),
        "--path-output",
        str(WORK / "out"),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
        "--quiet",
    ]
    if all_pages:
        command.append("--all")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
        detail = lines[-1] if lines else f"exit code {done.returncode}"
        raise RuntimeError(f"the benchmark's book build failed: {detail}")
    return seconds


def measure() -> list[dict]:
    """Time a clean build and a cached full rebuild of a copy of the book."""
    if os.environ.get(SKIP_VARIABLE):
        print(f"book cache: skipped ({SKIP_VARIABLE} is set), no figure measured")
        return []
    source, cache = _copy_book()
    clean = _build(source, all_pages=True)
    if not any(cache.iterdir()):
        raise RuntimeError(f"the clean build left no execution cache in {cache}")
    shutil.rmtree(WORK / "out")  # nothing of the first build's HTML or doctrees is reused
    cached = _build(source, all_pages=True)
    ratio = cached / clean
    return [
        {
            "name": "book: rebuild with execution cache / clean build time",
            "value": ratio,
            "target": f"<= {TARGET}",
            "ok": ratio <= TARGET,
            "detail": f"cached rebuild {cached:.1f} s, clean build {clean:.1f} s",
        }
    ]
