"""Run every benchmark module and print one line per figure, as a ratio against its reference.

Why a runner of our own rather than pytest-benchmark: the figures we report are ratios of two
approaches measured in the same run (so they mean the same on a laptop and in CI), each with a
target, and they are written to `_build/bench.json` for comparison across runs; tests never
assert timings.

A module `tests/benchmarks/bench_<topic>.py` exposes `measure() -> list[dict]`, each dict with
`name` (what is compared with what), `value` (the ratio), `target` (e.g. "<= 0.6"), `ok`
(whether the target is met) and `detail` (the absolute figures behind the ratio).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

import tests.benchmarks as package

OUTPUT = Path(__file__).resolve().parents[2] / "_build" / "bench.json"


def _modules(selected: list[str]) -> list[str]:
    found = pkgutil.iter_modules(package.__path__)
    names = sorted(info.name for info in found if info.name.startswith("bench_"))
    if selected:
        names = [name for name in names if any(word in name for word in selected)]
    return names


def main(argv: list[str]) -> int:
    figures: list[dict] = []
    failures = 0
    for name in _modules(argv):
        module = importlib.import_module(f"tests.benchmarks.{name}")
        started = time.perf_counter()
        try:
            results = module.measure()
        except Exception as error:  # one broken benchmark must not hide the others
            print(f"{name}: FAILED to measure: {type(error).__name__}: {error}")
            failures += 1
            continue
        for figure in results:
            figure.setdefault("module", name)
            figures.append(figure)
            mark = "ok" if figure["ok"] else "MISSED"
            print(
                f"{figure['name']}  {figure['value']:.3g} (target {figure['target']}) "
                f"[{mark}]  {figure.get('detail', '')}"
            )
        print(f"  ({name} took {time.perf_counter() - started:.1f} s)")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    report = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "figures": figures}
    OUTPUT.write_text(json.dumps(report, indent=2))
    missed = sum(1 for figure in figures if not figure["ok"])
    print(f"{len(figures)} figures, {missed} missed their target; written to {OUTPUT}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
