"""Tests of the book-cache benchmark's set-up (the slow builds themselves run in `make bench`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.benchmarks import bench_book_cache


def test_skipping_is_said_and_reports_no_figure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(bench_book_cache.SKIP_VARIABLE, "1")
    assert bench_book_cache.measure() == []
    assert "skipped" in capsys.readouterr().out


def test_copy_has_the_book_and_its_own_execution_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bench_book_cache, "WORK", tmp_path / "bench-book")
    source, cache = bench_book_cache._copy_book()
    assert (source / "_toc.yml").is_file()
    assert sorted(p.name for p in (source / "book").glob("*.md")) == sorted(
        p.name for p in (bench_book_cache.REPO / "book").glob("*.md")
    )
    for skipped in (".venv", "_build", ".git", ".cache"):
        assert not (source / skipped).exists(), skipped
    config = yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["cache"] == str(cache)
    assert cache.is_absolute() and cache.parent == tmp_path / "bench-book"
    original = yaml.safe_load((bench_book_cache.REPO / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == original["execute"]["execute_notebooks"]
