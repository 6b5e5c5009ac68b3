"""The traffic meter against a tiny Zarr store whose files, and so whose expected keys, we know.

A small aiohttp static server on 127.0.0.1 serves a consolidated Zarr v2 store written here with
xarray/zarr; every expected key and byte count is read back from the files on disk.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import fsspec
import fsspec.config
import numpy as np
import pytest
import xarray as xr
from aiohttp import web

from helpers import traffic
from helpers.traffic import TrafficMeter, install, key_kind

STORE = "store.zarr"


def _write_store(root: Path) -> None:
    ds = xr.Dataset(
        {
            "a": (("y", "x"), np.arange(24, dtype="f4").reshape(4, 6)),
            "b": ("x", np.linspace(0.0, 1.0, 6)),
        },
        coords={"x": np.arange(6), "y": np.arange(4)},
    )
    encoding = {"a": {"chunks": (2, 3)}, "b": {"chunks": (3,)}}
    # Zarr v2, as the EOPF stores are (zarr-python 3 writes v3 unless told).
    ds.to_zarr(root / STORE, consolidated=True, zarr_format=2, encoding=encoding)
    # A larger opaque file, to check bytes of streamed (not whole-body) reads.
    (root / "blob.bin").write_bytes(np.random.default_rng(0).bytes(300_000))


def _store_files(root: Path) -> dict[str, int]:
    """Every file of the store, as store key -> size in bytes."""
    store = root / STORE
    return {
        p.relative_to(store).as_posix(): p.stat().st_size for p in store.rglob("*") if p.is_file()
    }


class _Server:
    """aiohttp static file server on its own event-loop thread."""

    def __init__(self, root: Path) -> None:
        self.loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_static("/", root)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("traffic")
    _write_store(root)
    server = _Server(root)
    try:
        yield f"http://127.0.0.1:{server.port}", root
    finally:
        server.close()


@pytest.fixture
def store(served: tuple[str, Path]) -> tuple[str, dict[str, int]]:
    base, root = served
    return f"{base}/{STORE}", _store_files(root)


def _chunks(files: dict[str, int]) -> dict[str, int]:
    return {key: size for key, size in files.items() if key_kind(key) == "chunk"}


def _expect_consolidated_read(meter: TrafficMeter, url: str, files: dict[str, int]) -> None:
    """A consolidated open plus compute: the root's documents and .zmetadata once each, then
    every chunk exactly once. zarr-python 3 asks for `zarr.json` first (absent from a v2 store:
    404) and reads `.zgroup` and `.zattrs` before `.zmetadata`; zarr-python 2 read only
    `.zmetadata`."""
    chunks = _chunks(files)
    root = (".zgroup", ".zattrs", ".zmetadata")
    assert sorted(meter.store_keys(url)) == sorted(["zarr.json", *root, *chunks])
    assert meter.requests == 4 + len(chunks)
    assert meter.chunks_read == len(chunks)
    split = meter.by_kind()
    assert split["chunk"] == {"requests": len(chunks), "bytes": sum(chunks.values())}
    assert split["metadata"]["requests"] == 4
    assert split["metadata"]["bytes"] >= sum(files[key] for key in root)
    assert split["other"] == {"requests": 0, "bytes": 0}
    statuses = {record.path.rsplit("/", 1)[-1]: record.status for record in meter.records}
    assert statuses.pop("zarr.json") == 404
    assert set(statuses.values()) == {200}


def test_open_zarr_and_compute_fetches_metadata_once_and_every_chunk(store):
    url, files = store
    with TrafficMeter() as meter:
        ds = xr.open_zarr(url).compute()
    assert float(ds["a"].sum()) == sum(range(24))
    _expect_consolidated_read(meter, url, files)


def test_open_dataset_with_zarr_engine(store):
    url, files = store
    with TrafficMeter() as meter:
        xr.open_dataset(url, engine="zarr").compute()
    _expect_consolidated_read(meter, url, files)


def test_sees_the_eopf_zarr_engine_which_ignores_storage_options(store):
    url, files = store
    chunks = _chunks(files)
    with TrafficMeter() as meter:
        ds = xr.open_dataset(url, engine="eopf-zarr", op_mode="native", chunks={}).compute()
    assert float(ds["a"].sum()) == sum(range(24))
    keys = meter.store_keys(url)
    assert meter.requests == len(keys)  # every request went to this store
    assert ".zmetadata" in keys
    assert sorted(k for k in keys if key_kind(k) == "chunk") == sorted(chunks)
    assert {key_kind(k) for k in keys} == {"metadata", "chunk"}
    chunk_records = [r for r in meter.records if r.kind == "chunk"]
    assert sum(r.bytes for r in chunk_records) == sum(chunks.values())
    # Existence probes (e.g. of .zgroup) may close the response before reading its body, so
    # metadata bytes lie between "probes counted as 0" and "every metadata body in full".
    metadata = [r for r in meter.records if r.kind == "metadata"]
    full = sum(files.get(Path(r.path).name, 0) for r in metadata)
    assert files[".zmetadata"] <= meter.by_kind()["metadata"]["bytes"] <= full


def test_fsspec_whole_and_streamed_reads(served):
    base, root = served
    fs = fsspec.filesystem("http")
    size = (root / "blob.bin").stat().st_size
    with TrafficMeter() as meter:
        assert len(fs.cat_file(f"{base}/{STORE}/a/.zarray")) > 0
    assert meter.requests == 1
    assert meter.bytes_downloaded == (root / STORE / "a" / ".zarray").stat().st_size
    assert meter.by_kind()["metadata"]["requests"] == 1

    with TrafficMeter() as streamed, fs.open(f"{base}/blob.bin", block_size=0) as f:
        assert len(f.read()) == size
    # The streamed body is counted in full; any size probe adds requests but no body bytes.
    assert streamed.bytes_downloaded == size
    assert streamed.keys[-1] == "/blob.bin"
    assert streamed.by_kind()["other"]["bytes"] == size


def test_nothing_is_counted_outside_the_block(store):
    url, files = store
    fs = fsspec.filesystem("http")
    fs.cat_file(f"{url}/.zattrs")
    meter = TrafficMeter()
    fs.cat_file(f"{url}/.zattrs")
    assert meter.requests == 0  # created but not entered
    with meter:
        fs.cat_file(f"{url}/.zgroup")
    fs.cat_file(f"{url}/.zmetadata")
    fs.cat_file(f"{url}/a/0.0")
    assert meter.keys == [f"/{STORE}/.zgroup"]
    assert meter.bytes_downloaded == files[".zgroup"]
    elapsed = meter.seconds
    assert meter.seconds == elapsed  # frozen after the block


def test_nested_meters_each_see_their_own_window(store):
    url, files = store
    fs = fsspec.filesystem("http")
    with TrafficMeter() as outer:
        fs.cat_file(f"{url}/.zgroup")
        with TrafficMeter() as inner:
            fs.cat_file(f"{url}/a/0.0")
        fs.cat_file(f"{url}/.zattrs")
    assert inner.store_keys(url) == ["a/0.0"]
    assert outer.store_keys(url) == [".zgroup", "a/0.0", ".zattrs"]
    assert outer.bytes_downloaded == files[".zgroup"] + files["a/0.0"] + files[".zattrs"]


def test_filesystem_created_before_installation_is_seen(store):
    url, files = store
    # Explicit client_kwargs replace fsspec's configured ones, so this instance and its session
    # start without the tracer, like one cached before install().
    fs = fsspec.filesystem("http", client_kwargs={"headers": {"X-Test": "early"}})
    assert fs.cat_file(f"{url}/.zgroup")
    assert all(t is not traffic._TRACER.trace_config for t in fs._session.trace_configs)
    with TrafficMeter() as meter:
        fs.cat_file(f"{url}/a/0.1")
    assert meter.store_keys(url) == ["a/0.1"]
    assert meter.bytes_downloaded == files["a/0.1"]


def test_install_is_idempotent_and_keeps_other_client_settings(monkeypatch):
    timeout_marker = object()
    monkeypatch.setitem(
        fsspec.config.conf, "http", {"client_kwargs": {"timeout": timeout_marker}, "x": 1}
    )
    install()
    install()
    section = fsspec.config.conf["http"]
    assert section["x"] == 1
    assert section["client_kwargs"]["timeout"] is timeout_marker
    traces = section["client_kwargs"]["trace_configs"]
    assert [t for t in traces if t is traffic._TRACER.trace_config] == traces
    assert len(traces) == 1


def test_install_keeps_trace_configs_already_there(monkeypatch):
    other = object()
    monkeypatch.setitem(fsspec.config.conf, "http", {"client_kwargs": {"trace_configs": [other]}})
    install()
    traces = fsspec.config.conf["http"]["client_kwargs"]["trace_configs"]
    assert traces[0] is other
    assert traces[1] is traffic._TRACER.trace_config
    assert len(traces) == 2


def test_a_failed_request_is_counted_without_status():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    fs = fsspec.filesystem("http")
    with TrafficMeter() as meter, pytest.raises(Exception):  # noqa: B017 (any client error)
        fs.cat_file(f"http://127.0.0.1:{closed_port}/x/.zarray")
    assert meter.requests == 1
    assert meter.records[0].status is None
    assert meter.bytes_downloaded == 0


def test_summary_and_dict_agree(store):
    url, files = store
    with TrafficMeter() as meter:
        xr.open_zarr(url).compute()
    summary = meter.summary()
    assert re.fullmatch(r"\d+ requests, \d+\.\d\d MB downloaded in \d+\.\d\d s", summary)
    assert summary.startswith(f"{meter.requests} requests, ")
    figures = meter.as_dict()
    assert figures["requests"] == meter.requests
    assert figures["bytes_downloaded"] == meter.bytes_downloaded
    assert figures["chunk_requests"] == figures["chunks_read"] == len(_chunks(files))
    parts = ("metadata", "chunk", "other")
    assert sum(figures[f"{p}_requests"] for p in parts) == figures["requests"]
    assert sum(figures[f"{p}_bytes"] for p in parts) == figures["bytes_downloaded"]


def test_a_meter_is_used_once():
    meter = TrafficMeter()
    with meter:
        pass
    with pytest.raises(RuntimeError, match="one block"):
        meter.__enter__()


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("http://h/p.zarr/.zmetadata", "metadata"),
        ("/p.zarr/measurements/b08/.zarray", "metadata"),
        ("g/.zattrs", "metadata"),
        ("g/.zgroup", "metadata"),
        ("http://h/p.zarr/measurements/b08/0.1", "chunk"),
        ("b08/3", "chunk"),
        ("tci/0/1/2", "chunk"),
        ("http://h/stac/collections", "other"),
        ("x/0.a", "other"),
    ],
)
def test_key_kind(key: str, kind: str) -> None:
    assert key_kind(key) == kind
