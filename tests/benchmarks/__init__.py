"""Benchmarks for `make bench`: each figure is a ratio against a reference measured in one run.

Each `bench_*.py` module exposes `measure() -> list[dict]`; see `__main__` for the format.
"""
