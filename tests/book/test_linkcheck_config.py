"""`make linkcheck` builds from a configuration derived from `_config.yml`: check the derivation."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.tools.linkcheck_config import linkcheck_config, main

ROOT = Path(__file__).resolve().parents[2]


def test_execution_is_off_and_no_url_is_fetched() -> None:
    derived = linkcheck_config(yaml.safe_load((ROOT / "_config.yml").read_text()))
    assert derived["execute"]["execute_notebooks"] == "off"
    ignore = [re.compile(pattern) for pattern in derived["sphinx"]["config"]["linkcheck_ignore"]]
    for url in ("https://stac.core.eopf.eodc.eu/", "http://127.0.0.1:8765/"):
        assert any(pattern.match(url) for pattern in ignore), url
    assert not any(pattern.match("01_find_and_open.md") for pattern in ignore)
    assert "mystnb.glue" in derived["sphinx"]["config"]["suppress_warnings"]


def test_everything_else_is_the_books_own_configuration() -> None:
    config = {
        "title": "T",
        "execute": {"execute_notebooks": "cache", "timeout": 900},
        "sphinx": {"config": {"suppress_warnings": ["a.b"], "x": 1}, "recursive_update": True},
        "repository": {"branch": "main"},
    }
    derived = linkcheck_config(config)
    assert derived["title"] == "T" and derived["repository"] == {"branch": "main"}
    assert derived["execute"]["timeout"] == 900
    assert derived["sphinx"]["recursive_update"] is True
    assert derived["sphinx"]["config"]["x"] == 1
    assert derived["sphinx"]["config"]["suppress_warnings"] == ["a.b", "mystnb.glue"]
    assert config["execute"]["execute_notebooks"] == "cache", "the input must not be modified"


def test_main_writes_the_derived_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "_config.yml"
    assert main(str(ROOT / "_config.yml"), str(target)) == 0
    written = yaml.safe_load(target.read_text())
    assert written["execute"]["execute_notebooks"] == "off"
    assert written["title"] == yaml.safe_load((ROOT / "_config.yml").read_text())["title"]


def test_local_extension_folders_become_absolute(tmp_path: Path) -> None:
    """The derived file lives in the cache, so `book/_ext` must not stay relative."""
    config = {"sphinx": {"local_extensions": {"offline_assets": "book/_ext"}}}
    derived = linkcheck_config(config, tmp_path)
    assert derived["sphinx"]["local_extensions"] == {
        "offline_assets": str((tmp_path / "book" / "_ext").resolve())
    }
