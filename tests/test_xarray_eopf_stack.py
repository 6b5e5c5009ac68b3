"""The book's stack guard: xarray-eopf's `eopf-zarr` engine on zarr-python 3, and what the book
relies on it for.

Why this file exists: xarray-eopf 0.3.1 declares ``zarr<3`` and the book installs it without
that requirement (requirements-no-deps.txt), on xarray 2026.9 and zarr 3. Nothing in pip guards
that choice, so these tests do. The first two fail if the engine is missing or cannot open a
product on the installed zarr; the contract tests pin what the chapters use from the engine
(native tree, native group, flat native dataset, analysis mode at 60 m) so that an upgrade of
xarray-eopf, xarray or zarr that breaks any of it fails here, with a message naming the package
versions, before a chapter fails somewhere in the middle of a page.

Products are opened the way a reader opens them: found through the sample service's STAC API,
read over HTTP. Expected values are read from the same store with zarr itself, not typed in.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Iterator

import numpy as np
import pyproj
import pytest
import xarray as xr
import zarr
from pystac_client import Client

S2_ITEM = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
S2_EPSG = 32626
NATIVE = {"engine": "eopf-zarr", "op_mode": "native", "chunks": {}}
REFLECTANCE = {10: ("b02", "b03", "b04", "b08"), 60: ("b01", "b09")}
# What chapter 02 says analysis mode keeps besides the reflectances.
ANALYSIS_EXTRAS = ("scl", "cld", "snw")


def _versions() -> str:
    names = ("xarray-eopf", "xarray", "zarr")
    return ", ".join(f"{name} {importlib.metadata.version(name)}" for name in names)


@contextlib.contextmanager
def contract(what: str) -> Iterator[None]:
    """Turn any failure inside into one that names the packages and what the book relies on."""
    failure = None
    try:
        yield
    except Exception as error:  # an engine error is as much a broken contract as a wrong value
        failure = f"{type(error).__name__}: {error}"
    if failure is not None:
        pytest.fail(
            f"xarray-eopf's eopf-zarr engine no longer does what the book relies on ({what}) "
            f"with {_versions()}: {failure}",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def product_href(sample_service_url: str) -> str:
    """The tutorial's Sentinel-2 L2A product, as a reader finds it: through the STAC API."""
    item = Client.open(sample_service_url).get_collection("sentinel-2-l2a").get_item(S2_ITEM)
    assert item is not None, f"the sample service has no item {S2_ITEM}"
    return item.assets["product"].href


def _stored(href: str, path: str, window: tuple[slice, ...]) -> np.ndarray:
    """Values of one array read with zarr-python alone (no xarray, no engine)."""
    return zarr.open_group(href, mode="r")[path][window]


def test_installed_stack_is_the_one_the_book_pins() -> None:
    """zarr 3 with xarray-eopf installed: the arrangement requirements-no-deps.txt describes."""
    assert int(zarr.__version__.split(".")[0]) >= 3, f"zarr {zarr.__version__}: expected 3"
    assert importlib.metadata.version("xarray-eopf"), "xarray-eopf is not installed"


def test_eopf_zarr_engine_is_registered() -> None:
    engines = xr.backends.list_engines()
    assert "eopf-zarr" in engines, (
        f"xarray has no 'eopf-zarr' engine ({sorted(engines)}); install xarray-eopf "
        "with: pip install --no-deps -r requirements-no-deps.txt"
    )


def test_eopf_zarr_engine_opens_a_product_on_the_installed_zarr(product_href: str) -> None:
    window = (slice(0, 7), slice(0, 5))
    with contract("open a product over HTTP and read pixels"):
        tree = xr.open_datatree(product_href, **NATIVE)
        band = tree["measurements/reflectance/r10m"].to_dataset(inherit=False)["b08"]
        read = band.isel(y=window[0], x=window[1]).values
    # Native mode decodes digital counts to reflectance with the array's own attributes.
    raw = _stored(product_href, "measurements/reflectance/r10m/b08", window)
    attrs = band.encoding
    expected = np.where(
        raw == attrs["_FillValue"], np.nan, raw * attrs["scale_factor"] + attrs["add_offset"]
    )
    np.testing.assert_allclose(read, expected, rtol=1e-6)


def test_contract_native_tree(product_href: str) -> None:
    with contract("native mode: the product as a DataTree of its own groups"):
        tree = xr.open_datatree(product_href, **NATIVE)
        for resolution, bands in REFLECTANCE.items():
            group = tree[f"measurements/reflectance/r{resolution}m"]
            size = 109_800 // resolution
            assert set(bands) <= set(group.data_vars), sorted(group.data_vars)
            assert dict(group.sizes) == {"y": size, "x": size}
            assert float(group["x"][1] - group["x"][0]) == resolution
            assert group[bands[0]].chunks is not None, "not opened lazily with dask"
        for path in ("conditions/mask/l2a_classification/r20m", "quality/l2a_quicklook/r10m"):
            assert f"/{path}" in tree.groups, f"group {path} missing"
        assert tree.attrs["stac_discovery"]["id"] == S2_ITEM, "root attributes not copied"


def test_contract_native_group(product_href: str) -> None:
    with contract("native mode: one group opened by its URL as a Dataset"):
        group = xr.open_dataset(f"{product_href}/measurements/reflectance/r10m", **NATIVE)
        assert set(REFLECTANCE[10]) == set(group.data_vars), sorted(group.data_vars)
        assert group["b04"].dims == ("y", "x")
        assert group["b04"].data.chunksize == (1830, 1830)
        assert "BOA reflectance" in group["b04"].attrs["long_name"]


def test_contract_native_flat_dataset(product_href: str) -> None:
    with contract("native mode: the whole product as one Dataset, names joined with '_'"):
        flat = xr.open_dataset(product_href, **NATIVE)
        assert "measurements_r10m_b08" in flat.data_vars
        assert "measurements_r60m_b08" not in flat.data_vars  # b08 is 10 m only
        assert flat["measurements_r10m_b08"].shape == (10980, 10980)


def test_contract_analysis_at_60_m(product_href: str) -> None:
    with contract("analysis mode: every band on one 60 m grid, with its CRS"):
        ds = xr.open_dataset(
            product_href, engine="eopf-zarr", op_mode="analysis", resolution=60, chunks={}
        )
        assert dict(ds.sizes) == {"y": 1830, "x": 1830}, dict(ds.sizes)
        assert float(ds["x"][1] - ds["x"][0]) == 60
        assert float(ds["y"][1] - ds["y"][0]) == -60
        names = set(ds.data_vars)
        assert {*REFLECTANCE[10], *REFLECTANCE[60], *ANALYSIS_EXTRAS} <= names, sorted(names)
        assert pyproj.CRS.from_wkt(ds["spatial_ref"].attrs["crs_wkt"]).to_epsg() == S2_EPSG
        # b01 is stored at 60 m: analysis mode must hand over the native pixels unchanged.
        native = xr.open_dataset(f"{product_href}/measurements/reflectance/r60m", **NATIVE)
        window = {"y": slice(100, 110), "x": slice(200, 212)}
        np.testing.assert_array_equal(
            ds["b01"].isel(window).values, native["b01"].isel(window).values
        )


def test_contract_analysis_variables(product_href: str) -> None:
    with contract("analysis mode: variables= selects bands"):
        ds = xr.open_dataset(
            product_href,
            engine="eopf-zarr",
            op_mode="analysis",
            resolution=60,
            variables=["b04", "b08"],
            chunks={},
        )
        assert set(ds.data_vars) == {"b04", "b08"}
