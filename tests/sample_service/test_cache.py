"""The service's one cache format: chunks and archives, never served damaged."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from helpers.sample_service import zarr_store
from helpers.sample_service.cache import VerifiedCache, default_cache_root
from helpers.sample_service.settings import CACHE_VAR

# --- the chunk cache -----------------------------------------------------------------


class _Maker:
    def __init__(self, payload: bytes) -> None:
        self.payload, self.calls = payload, 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.payload


def _entry(root: Path) -> Path:
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) == 1
    return files[0]


def test_cache_serves_an_entry_without_remaking_it(tmp_path: Path) -> None:
    make = _Maker(b"chunk bytes" * 100)
    assert VerifiedCache(tmp_path).get_or_create("a/b/0.0", make) == make.payload
    assert VerifiedCache(tmp_path).get_or_create("a/b/0.0", make) == make.payload
    assert make.calls == 1
    assert not [p for p in tmp_path.rglob(".tmp-*")]  # no temporary file left behind


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_cache_detects_a_damaged_entry_and_rewrites_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    make = _Maker(bytes(range(256)) * 64)
    cache = VerifiedCache(tmp_path)
    cache.get_or_create("key", make)
    path = _entry(tmp_path)
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[-10] ^= 0xFF
    elif damage == "truncate":
        blob = blob[: len(blob) // 2]
    else:
        blob = bytearray()
    path.write_bytes(bytes(blob))
    with caplog.at_level(logging.WARNING, logger="helpers.sample_service"):
        assert cache.get_or_create("key", make) == make.payload
    assert make.calls == 2
    warnings = [r for r in caplog.records if r.name == "helpers.sample_service"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "\n" not in warnings[0].getMessage()
    with caplog.at_level(logging.WARNING, logger="helpers.sample_service"):
        caplog.clear()
        assert VerifiedCache(tmp_path).get_or_create("key", make) == make.payload
    assert make.calls == 2 and not caplog.records  # the rewritten entry is whole again


def test_cache_never_trusts_an_entry_written_for_another_key(tmp_path: Path) -> None:
    cache = VerifiedCache(tmp_path)
    cache.get_or_create("first", _Maker(b"first payload"))
    stolen = _entry(tmp_path)
    target = cache._path("second")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(stolen, target)
    make = _Maker(b"second payload")
    assert cache.get_or_create("second", make) == b"second payload" and make.calls == 1


def test_cache_ignores_half_written_temporary_files(tmp_path: Path) -> None:
    cache = VerifiedCache(tmp_path)
    target = cache._path("key")
    target.parent.mkdir(parents=True)
    (target.parent / ".tmp-interrupted").write_bytes(b"EOPFCC1\n partial")
    make = _Maker(b"whole")
    assert cache.get_or_create("key", make) == b"whole" and make.calls == 1


def test_cache_that_cannot_write_still_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    make = _Maker(b"payload")
    with caplog.at_level(logging.WARNING, logger="helpers.sample_service"):
        assert VerifiedCache(blocker).get_or_create("key", make) == b"payload"
    assert any("cannot write" in r.getMessage() for r in caplog.records)


def test_cache_root_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_VAR, str(tmp_path / "chunks"))
    assert default_cache_root() == tmp_path / "chunks"
    assert (tmp_path / "chunks").is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_VAR, str(blocker / "chunks"))  # cannot be created
    fallback = default_cache_root()
    assert fallback != blocker / "chunks" and fallback.is_dir()
    monkeypatch.delenv(CACHE_VAR)
    repo = Path(zarr_store.__file__).resolve().parents[2]
    assert default_cache_root() == repo / ".cache" / "sample-service" / "chunks"


# --- large entries (the SAFE archive) ---------------------------------------------------------


def _payload_builder(payload: bytes, calls: list[int]):
    def build(target: Path) -> None:
        calls.append(1)
        target.write_bytes(payload)

    return build


def test_a_large_entry_is_built_once_and_served_from_its_offset(tmp_path: Path) -> None:
    calls: list[int] = []
    payload = os.urandom(300_000)
    build = _payload_builder(payload, calls)
    first = VerifiedCache(tmp_path).get_or_create_file("archive.cached", "v1", build, "archive")
    again = VerifiedCache(tmp_path).get_or_create_file("archive.cached", "v1", build, "archive")
    assert first == again and calls == [1]
    assert first.read_range(0, first.size) == payload and first.size == len(payload)
    raw = first.path.read_bytes()
    assert raw[first.offset :] == payload and raw.startswith(b"EOPFCC1\n")  # the chunk format
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.cached"]


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_a_damaged_large_entry_is_rebuilt_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    calls: list[int] = []
    payload = bytes(range(256)) * 1000
    build = _payload_builder(payload, calls)
    stored = VerifiedCache(tmp_path).get_or_create_file("a.cached", "k", build, "archive")
    blob = bytearray(stored.path.read_bytes())
    if damage == "flip":
        blob[-100] ^= 0xFF
    elif damage == "truncate":
        blob = blob[: len(blob) // 2]
    else:
        blob = bytearray()
    stored.path.write_bytes(bytes(blob))
    with caplog.at_level(logging.INFO, logger="helpers.sample_service"):
        again = VerifiedCache(tmp_path).get_or_create_file("a.cached", "k", build, "archive")
    assert again.read_range(0, again.size) == payload and calls == [1, 1]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("Corrupt archive")


def test_a_large_entry_of_another_version_is_rebuilt_in_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    cache = VerifiedCache(tmp_path)
    cache.get_or_create_file("a.cached", "v1", _payload_builder(b"old", calls), "archive")
    with caplog.at_level(logging.INFO, logger="helpers.sample_service"):
        new = cache.get_or_create_file("a.cached", "v2", _payload_builder(b"new", calls), "archive")
    assert new.read_range(0, 3) == b"new" and calls == [1, 1]
    assert [r.levelno for r in caplog.records if "Rebuilding" in r.getMessage()] == [logging.INFO]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.cached"]  # replaced, not beside


def test_find_file_answers_only_for_an_intact_entry_of_its_key(tmp_path: Path) -> None:
    cache = VerifiedCache(tmp_path)
    assert cache.find_file("slot", "v1") is None  # missing: nothing is built
    assert not (tmp_path / "slot").exists()
    stored = cache.get_or_create_file("slot", "v1", lambda p: p.write_bytes(b"abc" * 9), "x")
    found = cache.find_file("slot", "v1")
    assert found is not None and found.read_range(0, 27) == b"abc" * 9
    assert cache.find_file("slot", "v2") is None  # written for another key
    with stored.path.open("r+b") as handle:  # damage the payload
        handle.seek(stored.offset)
        handle.write(b"X")
    assert VerifiedCache(tmp_path).find_file("slot", "v1") is None
