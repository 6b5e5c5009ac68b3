"""The folder server of the optimisation chapter: files, listings, a network profile, errors."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from helpers.errors import EOPFBookError
from helpers.local_server import FolderServer, NetworkProfile


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_serves_files_and_lists_folders(tmp_path: Path) -> None:
    (tmp_path / "store.zarr").mkdir()
    (tmp_path / "store.zarr" / ".zgroup").write_text('{"zarr_format": 2}')
    with FolderServer(tmp_path) as server:
        assert _get(f"{server.url}/store.zarr/.zgroup") == b'{"zarr_format": 2}'
        assert b".zgroup" in _get(f"{server.url}/store.zarr/")
    with pytest.raises(OSError):
        _get(f"{server.url}/store.zarr/.zgroup")  # stopped


def test_network_profile_adds_round_trips_and_limits_bandwidth(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"\0" * 1_000_000)  # 8 Mbit: 0.8 s at 10 Mbit/s
    profile = NetworkProfile(round_trip_s=0.2, bandwidth_mbit_s=10)
    assert profile.fault_spec() == "latency=0.2,bandwidth=10"
    assert str(profile) == "200 ms round trip, 10 Mbit/s"
    with FolderServer(tmp_path, profile) as far, FolderServer(tmp_path) as near:
        started = time.perf_counter()
        assert len(_get(f"{far.url}/blob")) == 1_000_000
        far_seconds = time.perf_counter() - started
        started = time.perf_counter()
        _get(f"{near.url}/blob")
        near_seconds = time.perf_counter() - started
    assert far_seconds >= 0.2 + 0.8 * 0.95
    assert near_seconds < far_seconds / 2


def test_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EOPFBookError, match="it is not a folder") as caught:
        FolderServer(tmp_path / "nowhere")
    assert "\n" not in str(caught.value)
