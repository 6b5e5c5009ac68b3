"""The Zarr stores answer keys as a real EOPF store would, and open with xarray-eopf.

The stores are read here without HTTP, through a small fsspec file system
over `ProductStore.get` (so the same ``url + "/group"`` calls as the book's
work), or directly through `get`. The chunk cache's integrity checks are
tested on a temporary directory.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import fsspec
import numcodecs
import numpy as np
import pytest
import xarray as xr
import zarr
from zarr.core.buffer import cpu

from helpers.sample_service import catalog, products, zarr_store
from helpers.sample_service.cache import VerifiedCache

S2_TUTORIAL = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
OCN_TUTORIAL = "S1A_IW_OCN__2SDV_20250604T193923_20250604T193948_059501_0762FA_C971"
OCN_GROUP = "S01SIWOCN_20250604T193923_0025_A340_C971_0762FA_VV"
LFR_TUTORIAL = (
    "S3A_OL_2_LFR____20250605T102430_20250605T102730_20250605T122455_0179_126_336_2160_PS1_O_NR_003"
)
OPEN = {"engine": "eopf-zarr", "op_mode": "native", "chunks": {}}


class _StoreFileSystem(fsspec.AbstractFileSystem):
    """``eopfsample://<product id>.zarr/<key>``: the stores as an fsspec file system."""

    protocol = "eopfsample"
    root_marker = ""

    def _resolve(self, path: str) -> tuple[zarr_store.ProductStore, str]:
        path = self._strip_protocol(path).strip("/")
        product, dot_zarr, key = path.partition(".zarr")
        store = zarr_store.open_store(product)
        if store is None or not dot_zarr:
            raise FileNotFoundError(path)
        return store, key.strip("/")

    def cat_file(self, path, start=None, end=None, **kwargs):
        store, key = self._resolve(path)
        data = store.get(key)
        if data is None:
            raise FileNotFoundError(path)
        return data[start:end]

    def info(self, path, **kwargs):
        store, key = self._resolve(path)
        if key == "" or key in store.group_paths() or key in store.array_paths():
            return {"name": path, "size": 0, "type": "directory"}
        data = store.get(key)
        if data is None:
            raise FileNotFoundError(path)
        return {"name": path, "size": len(data), "type": "file"}


@pytest.fixture(scope="module", autouse=True)
def _register_file_system() -> Iterator[None]:
    fsspec.register_implementation("eopfsample", _StoreFileSystem, clobber=True)
    yield


def _url(product_id: str) -> str:
    return f"eopfsample://{product_id}.zarr"


def _decode(store: zarr_store.ProductStore, path: str, chunk: str) -> np.ndarray:
    spec = store.array_spec(path)
    assert spec is not None
    raw = numcodecs.get_codec(spec.compressor).decode(store.get(f"{path}/{chunk}"))
    return np.frombuffer(raw, dtype=spec.dtype).reshape(spec.chunks)


# --- opening with xarray-eopf, as the tutorial does -------------------------


def test_s2_tutorial_product_opens_as_the_tutorial_prints() -> None:
    dt = xr.open_datatree(_url(S2_TUTORIAL), **OPEN)
    assert len(dt.groups) == 36  # 36 groups, the root included
    chunk_sizes = {}
    for res in (10, 20, 60):
        dataset = dt[f"/measurements/reflectance/r{res}m"].to_dataset()
        chunk_sizes[res] = set(itertools.chain.from_iterable(dataset.chunksizes.values()))
    assert chunk_sizes == {10: {1830}, 20: {915}, 60: {305}}
    ds = dt["/measurements/reflectance/r10m"].to_dataset()
    names = {n: (v.attrs["units"], v.attrs["long_name"]) for n, v in ds.data_vars.items()}
    assert names == {
        band: (
            "digital_counts",
            f"BOA reflectance from MSI acquisition at spectral band {band} {nm} nm",
        )
        for band, nm in (("b02", "492.3"), ("b03", "559.0"), ("b04", "665.0"), ("b08", "833.0"))
    }
    assert dt.attrs["stac_discovery"]["properties"]["proj:epsg"] == 32626
    y, x = ds.coords["y"].values, ds.coords["x"].values
    assert ds.coords["y"].dtype == np.int64 and len(y) == len(x) == 10980
    assert list(y[:3]) == [4600015, 4600005, 4599995] and list(y[-3:]) == [
        4490245,
        4490235,
        4490225,
    ]
    assert list(x[:3]) == [399965, 399975, 399985] and list(x[-3:]) == [509735, 509745, 509755]
    tci = dt["/quality/l2a_quicklook/r60m"].to_dataset()["tci"]
    assert tci.dims == ("band", "y", "x") and tci.dtype == np.uint8
    assert list(dt["/quality/l2a_quicklook/r60m"].coords["band"].values) == [1, 2, 3]


def test_a_group_opens_as_a_dataset_and_decodes_reflectance() -> None:
    ds = xr.open_dataset(_url(S2_TUTORIAL) + "/measurements/reflectance/r10m", **OPEN)
    corner = ds["b02"][:10, :5].values  # outside the swath in the real product: no data
    assert np.isnan(corner).all()
    inside = ds["b02"][8424:8430, :5].values  # the rows the tutorial prints (1-based 8425..8430)
    assert np.isfinite(inside).all() and ((inside > -0.1) & (inside < 1.6)).all()


def test_ocn_tutorial_product_opens_with_its_wind_cells() -> None:
    dt = xr.open_datatree(_url(OCN_TUTORIAL), **OPEN)
    assert len(dt.groups) == 16  # the 16 groups the tutorial counts, the root included
    ds = dt[f"/owi/{OCN_GROUP}/measurements"].to_dataset()
    assert set(ds.variables) == {"latitude", "longitude", "wind_direction", "wind_speed"}
    assert dict(ds.sizes) == {"azimuth": 167, "range": 255}
    assert ds["wind_direction"].dims == ("azimuth", "range")
    assert ds["wind_direction"].chunks == ((167,), (255,))
    lat, lon = ds.latitude.values, ds.longitude.values
    assert lat[0, 0] == pytest.approx(30.25712, abs=1e-4)
    assert np.nanmin(lon) >= -25.775 and np.nanmax(lon) <= -22.82
    direction = ds.wind_direction.values
    assert 50 < np.nanmean(direction) < 80 and np.nanmax(direction) < 120
    assert 100 < np.isnan(direction).sum() < 1500


def test_lfr_tutorial_product_opens_with_its_swath_grid() -> None:
    dt = xr.open_datatree(_url(LFR_TUTORIAL), **OPEN)
    ds = dt["/measurements"]
    assert set(ds.variables) == {
        "gifapar",
        "iwv",
        "latitude",
        "longitude",
        "otci",
        "rc681",
        "rc865",
    }
    assert dict(ds.sizes) == {"rows": 4091, "columns": 4865}
    assert set(itertools.chain.from_iterable(ds.to_dataset().chunksizes.values())) == {
        1024,
        4091 - 3 * 1024,
        4865 - 4 * 1024,
    }
    corner = ds.to_dataset().isel(rows=slice(0, 5), columns=slice(0, 5))
    lat, lon = corner.latitude.values, corner.longitude.values
    assert lat[0, 0] == pytest.approx(52.45365, abs=1e-6)
    assert lon[0, 0] == pytest.approx(-9.244943, abs=1e-6)
    published_lon = [-9.244943, -9.240988, -9.237033, -9.233078, -9.229123]
    published_lat = [52.45365, 52.45109, 52.44853, 52.44597, 52.44341]
    assert lon[0] == pytest.approx(published_lon, abs=2e-3)
    assert lat[:, 0] == pytest.approx(published_lat, abs=2e-3)


@pytest.mark.parametrize("product_id", [S2_TUTORIAL, OCN_TUTORIAL, LFR_TUTORIAL])
def test_every_group_opens_as_a_dataset(product_id: str) -> None:
    store = zarr_store.open_store(product_id)
    for group in store.group_paths()[1:]:
        ds = xr.open_dataset(f"{_url(product_id)}/{group}", **OPEN)
        arrays = [p for p in store.array_paths() if p.startswith(f"{group}/")]
        assert len(ds.variables) > 0 and arrays, group
        for name, variable in ds.data_vars.items():
            assert variable.chunks is not None, f"{group}: {name} is not lazy"


# --- keys ---------------------------------------------------------------------------


ZMETADATA_TYPES = [
    kind
    for kind in products.PRODUCT_TYPES
    if products.TEMPLATE_FILES[kind].endswith(".zmetadata.json")
]


@pytest.mark.parametrize("product_type", ZMETADATA_TYPES)
def test_metadata_bytes_follow_the_live_stores_json_conventions(product_type: str) -> None:
    """The templates are verbatim `.zmetadata` files of live products (written by zarr-python
    2: indent 4, sorted keys, ASCII); serialising their parsed JSON must give the same bytes,
    so every document the service serves is formatted as the live service formats it. (A
    template published as a group spec is another layout of the same facts: not checked.)"""
    path = products.TEMPLATE_DIR / products.TEMPLATE_FILES[product_type]
    live = path.read_bytes()
    assert products.dump_document(json.loads(live)) == live


def test_zarr_3_reads_the_served_metadata_as_zarr_v2() -> None:
    """zarr-python 3 parses every served document as Zarr v2, with the template's codec."""
    store = zarr_store.open_store(S2_TUTORIAL)
    memory = {key: store.get(key) for key in (".zmetadata", ".zgroup", ".zattrs")}
    path = "measurements/reflectance/r10m/b08"
    for key in (".zarray", ".zattrs"):
        memory[f"{path}/{key}"] = store.get(f"{path}/{key}")
    memory[f"{path}/0.0"] = store.get(f"{path}/0.0")
    mem = zarr.storage.MemoryStore(
        {key: cpu.Buffer.from_bytes(value) for key, value in memory.items()}
    )
    group = zarr.open_consolidated(mem, mode="r", zarr_format=2)
    array = group[path]
    assert array.metadata.zarr_format == 2
    assert array.metadata.compressor.codec_id == "blosc"
    np.testing.assert_array_equal(array[:1830, :1830], _decode(store, path, "0.0"))


def test_metadata_keys_hold_the_consolidated_documents() -> None:
    store = zarr_store.open_store(S2_TUTORIAL)
    assert store is zarr_store.open_store(S2_TUTORIAL)  # memoised
    document = json.loads(store.get(".zmetadata"))
    built = products.build_zmetadata(catalog.get_product(S2_TUTORIAL))
    assert store.get(".zmetadata") == products.dump_document(built)
    assert document["zarr_consolidated_format"] == 1
    for key, value in document["metadata"].items():
        assert json.loads(store.get(key)) == value, key
    assert store.group_paths()[0] == ""
    assert "measurements/reflectance/r10m" in store.group_paths()
    assert "measurements/reflectance/r10m/b08" in store.array_paths()


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/",
        "/.zgroup",
        "//.zgroup",
        "../.zgroup",
        "measurements/../.zgroup",
        "measurements\\.zgroup",
        "nope/.zarray",
        ".zmetadata/0",
        "measurements/.zmetadata",
        "measurements/reflectance/r10m/.zarray",
        "measurements/reflectance/r10m/b08/.zgroup",
        "measurements/reflectance/r10m/b08/6.0",
        "measurements/reflectance/r10m/b08/0",
        "measurements/reflectance/r10m/b08/0.0.0",
        "measurements/reflectance/r10m/b08/00.0",
        "measurements/reflectance/r10m/b08/-1.0",
        "measurements/reflectance/r10m/b08/+1.0",
        "measurements/reflectance/r10m/b08/ 1.0",
        "measurements/reflectance/r10m/b08/1.0/",
        "measurements/reflectance/r10m/b08/1/0",
        "measurements/reflectance/r10m/b08/\uff11.0",  # a full-width digit
        "measurements/reflectance/r10m/b08//1.0",
        "conditions/meteorology/cams/time/0.0",
        "conditions/meteorology/cams/time/1",
    ],
)
def test_keys_a_real_store_does_not_hold_give_none(key: str) -> None:
    assert zarr_store.open_store(S2_TUTORIAL).get(key) is None


def test_unknown_products_have_no_store() -> None:
    assert (
        zarr_store.open_store("S2B_MSIL2A_20250522T125039_N0511_R095_T26TXX_20250522T133252")
        is None
    )
    assert zarr_store.open_store("../" + S2_TUTORIAL) is None
    assert zarr_store.open_store("") is None


def test_chunks_are_the_same_bytes_every_time(tmp_path: Path) -> None:
    record = catalog.get_product(S2_TUTORIAL)
    first = zarr_store.ProductStore(record, VerifiedCache(tmp_path / "a"))
    second = zarr_store.ProductStore(record, VerifiedCache(tmp_path / "b"))
    key = "quality/l2a_quicklook/r60m/tci/2.3.4"
    made = first.get(key)
    assert made is not None and first.get(key) == made  # from the cache
    assert second.get(key) == made  # made afresh elsewhere
    scalar = first.get("conditions/meteorology/cams/time/0")
    assert scalar == np.array(0, dtype="<i8").tobytes()  # uncompressed 0-d array


def test_chunks_are_encoded_with_the_arrays_codec() -> None:
    store = zarr_store.open_store(S2_TUTORIAL)
    encoded = store.get("measurements/reflectance/r60m/b8a/1.1")
    assert numcodecs.blosc.cbuffer_complib(encoded) == "Zstd"
    flags, typesize = encoded[2], encoded[3]  # the Blosc header: flags, then the item size
    assert typesize == 2  # uint16: shuffled by item, as zarr writes it
    assert flags & 0x4 and not flags & 0x1  # bit shuffle (shuffle=2), not byte shuffle
    assert int.from_bytes(encoded[4:8], "little") == 305 * 305 * 2  # uncompressed size
    names = store.get("conditions/geometry/band/0")
    assert names[3] == 12  # <U3: 12-byte items


def test_edge_chunks_are_padded_with_the_fill_value() -> None:
    store = zarr_store.open_store(LFR_TUTORIAL)
    gifapar = _decode(store, "measurements/gifapar", "3.4")
    rows, cols = 4091 - 3 * 1024, 4865 - 4 * 1024
    assert gifapar.shape == (1024, 1024)
    assert (gifapar[rows:, :] == 255.0).all() and (gifapar[:, cols:] == 255.0).all()
    flags = _decode(store, "quality/lqsf", "3.4")  # no fill value: zeros
    assert (flags[rows:, :] == 0).all() and (flags[:rows, :cols] != 0).all()


def test_concurrent_requests_get_identical_bytes(tmp_path: Path) -> None:
    store = zarr_store.ProductStore(catalog.get_product(OCN_TUTORIAL), VerifiedCache(tmp_path))
    key = f"owi/{OCN_GROUP}/measurements/wind_speed/0.0"
    results: list[bytes | None] = []
    threads = [threading.Thread(target=lambda: results.append(store.get(key))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1 and results[0] is not None
