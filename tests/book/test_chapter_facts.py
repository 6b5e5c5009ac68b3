"""The facts the two Foundations chapters rely on, checked without executing the chapters.

Why this file exists: the chapters `book/01_find_and_open.md` and `book/02_inside_eopf_zarr.md`
teach the first half of the EOPF tooling guide tutorial "EOPF STAC Zarr Asset Access with xarray"
(eopf-toolkit/eopf-tooling-guide, docs/tutorials/stac_zarr/python/eopf_stac_zarr_xarray.md). Its
code is a contract: the chapters must keep it, and on the sample service it must print what the
tutorial's comments show. Executing the chapters (nbmake, the book build) proves they run, not that
they still say the right thing, so two kinds of checks live here:

- the tutorial's statements are still in the chapters' code cells, in order (a reader comparing
  the two must find the same code);
- the printed facts hold on the sample service: asset lines, groups, chunk sizes, long names and
  units, EPSG code, coordinate values, and the things the prose builds on (the 2 km window lies in
  one chunk; analysis mode at 20 m aggregates b08, copies b05 and interpolates b09).

Only metadata and single chunks are read, so the file stays fast.
"""

from __future__ import annotations

import itertools
import re
import warnings
from pathlib import Path

import pytest
import xarray as xr
from pystac_client import Client

from helpers.traffic import TrafficMeter

BOOK = Path(__file__).resolve().parents[2] / "book"
CHAPTERS = ("01_find_and_open.md", "02_inside_eopf_zarr.md")
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.S | re.M)

ITEM_ID = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"

# The tutorial's statements, one entry per code block up to its "Data Statistics" section, as
# logical lines (comments and blank lines dropped). Only the STAC root URL is replaced, by the
# chapters' STAC_URL. Each block must appear in order within one chapter's code cells; the
# chapters may split it across cells and indent it (e.g. inside `with TrafficMeter()`).
TUTORIAL_BLOCKS: dict[str, tuple[str, ...]] = {
    "find the item and its top-level asset": (
        "client = Client.open(STAC_URL)",
        'collection = client.get_collection(collection_id="sentinel-2-l2a")',
        "item = collection.get_item(",
        'id="S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"',
        ")",
        'assert item is not None, "Expected item does not exist"',
        "print(",
        '"Fetched collection/item {collection}/{id}".format(',
        "collection=collection.id, id=item.id",
        "top_level_zarr_group_asset: Optional[Asset] = None",
        "for asset_name, asset in sorted(",
        "item.get_assets(media_type=MediaType.ZARR).items(), key=lambda item: item[1].href",
        "roles = asset.roles or []",
        '"Zarr asset {group_path} ({title}) has roles {roles}".format(',
        'group_path="".join(asset.href.split(".zarr")[-1:]) or "/",',
        "title=asset.title,",
        "roles=roles,",
        'if "data" in roles and "metadata" in roles:',
        "top_level_zarr_group_asset = asset",
        "assert (",
        "top_level_zarr_group_asset is not None",
        '), "Unable to find top-level Zarr group asset"',
        '"Asset {name} is the top-level Zarr group asset".format(',
        "name=top_level_zarr_group_asset.title",
    ),
    "open the DataTree": (
        "dt = xr.open_datatree(",
        "top_level_zarr_group_asset.href,",
        '**top_level_zarr_group_asset.extra_fields["xarray:open_datatree_kwargs"],',
        "for dt_group in sorted(dt.groups):",
        'print("DataTree group {group_name}".format(group_name=dt_group))',
    ),
    "chunk sizes": (
        "dataset_by_resolution = {",
        '10: dt["/measurements/reflectance/r10m"].to_dataset(),',
        '20: dt["/measurements/reflectance/r20m"].to_dataset(),',
        '60: dt["/measurements/reflectance/r60m"].to_dataset(),',
        "for resolution, dataset in dataset_by_resolution.items():",
        '"Chunk size(s) for {resolution}m resolution dataset: {chunk_sizes}".format(',
        "resolution=resolution,",
        "chunk_sizes=set(itertools.chain.from_iterable(dataset.chunksizes.values())),",
    ),
    "variables and attributes": (
        "ds_sr10m = dataset_by_resolution[10]",
        "for variable_name, variable in ds_sr10m.data_vars.items():",
        '"{asset_name} has variable {variable_name} ({variable_units}): {variable_title}".format(',
        'asset_name="SR_10m",',
        "variable_name=variable_name,",
        'variable_units=variable.attrs["units"],',
        'variable_title=variable.attrs["long_name"],',
    ),
    "dimensions and coordinates": (
        '"All spatial data for this STAC item is in EPSG:{epsg_code} https://epsg.io/{epsg_code}"'
        ".format(",
        # Drift (issue 14): from CPM 2.6.2 the product no longer states proj:epsg; the chapter
        # reads the item's proj:code (or proj:epsg) instead, as chapter 01 teaches.
        'epsg_code=crs_code(item).removeprefix("EPSG:")  # proj:code or proj:epsg',
        "for dimension_name in ds_sr10m.dims:",
        '"Dimension {name} has coordinates {coordinates}".format(',
        "name=dimension_name, coordinates=ds_sr10m.coords[dimension_name]",
    ),
    "data statistics": (
        'da_b08 = ds_sr10m["b08"]',
        '"Mean {value_name} for scene: {mean_nir}".format(',
        'value_name=da_b08.attrs["long_name"],',
        "mean_nir=da_b08.mean().compute().item(),",
    ),
}


LINT_PRAGMA = re.compile(r"\s+#\s*(?:noqa|fmt:|type:)[^\n]*$")


def _code_lines(chapter: str) -> list[str]:
    """Logical code lines of a chapter: every code cell, stripped, without blanks and comments."""
    text = (BOOK / chapter).read_text(encoding="utf-8")
    lines = []
    for cell in CODE_CELL.findall(text):
        for line in cell.splitlines():
            # A lint pragma at the end of a line (`# noqa: E501`) is not part of the code.
            stripped = LINT_PRAGMA.sub("", line).strip()
            if stripped and not stripped.startswith(("#", ":tags:")):
                lines.append(stripped)
    return lines


def _missing_in_order(needles: tuple[str, ...], haystack: list[str]) -> list[str]:
    """The needles that cannot be found, in order, as whole lines or long-line fragments."""
    missing, position = [], 0
    for needle in needles:
        for index in range(position, len(haystack)):
            if haystack[index] == needle or (len(needle) > 40 and needle in haystack[index]):
                position = index + 1
                break
        else:
            missing.append(needle)
    return missing


@pytest.mark.parametrize("block", TUTORIAL_BLOCKS, ids=str)
def test_tutorial_code_is_kept_in_a_chapter(block: str) -> None:
    needles = TUTORIAL_BLOCKS[block]
    misses = {chapter: _missing_in_order(needles, _code_lines(chapter)) for chapter in CHAPTERS}
    assert any(not missed for missed in misses.values()), (
        f"tutorial block '{block}' is not kept in order in any chapter; first missing line per "
        f"chapter: { {chapter: missed[0] for chapter, missed in misses.items()} }"
    )


def test_the_contract_check_notices_a_change() -> None:
    """The order check fails when a tutorial line is altered (so the test above can fail)."""
    lines = ["a = 1", "b = a + 1", "print(b)"]
    assert _missing_in_order(("a = 1", "print(b)"), lines) == []
    assert _missing_in_order(("print(b)", "a = 1"), lines) == ["a = 1"]
    assert _missing_in_order(("b = a + 2",), lines) == ["b = a + 2"]


# --- the printed facts, on the sample service ------------------------------------------------


@pytest.fixture(scope="module")
def item(sample_service_url: str):
    client = Client.open(sample_service_url)
    return client.get_collection(collection_id="sentinel-2-l2a").get_item(id=ITEM_ID)


@pytest.fixture(scope="module")
def product_href(item) -> str:
    return item.assets["product"].href


@pytest.fixture(scope="module")
def datatree(item) -> xr.DataTree:
    asset = item.assets["product"]
    return xr.open_datatree(asset.href, **asset.extra_fields["xarray:open_datatree_kwargs"])


# The asset lines the tutorial prints are checked by tests/test_seed_acceptance.py, which runs
# the tutorial's own loop rather than a copy of it.


def test_group_assets_carry_open_dataset_kwargs(item) -> None:
    """Chapter 1 opens SR_10m (and the exercise SR_20m) with the asset's own kwargs."""
    for key in ("SR_10m", "SR_20m"):
        kwargs = item.assets[key].extra_fields["xarray:open_dataset_kwargs"]
        assert kwargs["engine"] == "eopf-zarr"
        assert kwargs["op_mode"] == "native"
        assert kwargs["chunks"] == {}


def test_groups_chunks_units_and_crs(datatree: xr.DataTree) -> None:
    groups = sorted(datatree.groups)
    assert groups[:3] == ["/", "/conditions", "/conditions/geometry"]
    chunk_sizes = {
        resolution: set(
            itertools.chain.from_iterable(
                datatree[f"/measurements/reflectance/r{resolution}m"]
                .to_dataset()
                .chunksizes.values()
            )
        )
        for resolution in (10, 20, 60)
    }
    assert chunk_sizes == {10: {1830}, 20: {915}, 60: {305}}
    ds = datatree["/measurements/reflectance/r10m"].to_dataset()
    wavelengths = {"b02": "492.3", "b03": "559.0", "b04": "665.0", "b08": "833.0"}
    assert list(ds.data_vars) == list(wavelengths)
    for name, nm in wavelengths.items():
        assert ds[name].attrs["units"] == "digital_counts"
        assert ds[name].attrs["long_name"] == (
            f"BOA reflectance from MSI acquisition at spectral band {name} {nm} nm"
        )
    assert datatree.attrs["stac_discovery"]["properties"]["proj:epsg"] == 32626


def test_coordinates_print_as_the_tutorial_shows(datatree: xr.DataTree) -> None:
    ds = datatree["/measurements/reflectance/r10m"].to_dataset()
    assert list(ds.dims) == ["y", "x"]
    y_repr, x_repr = repr(ds.coords["y"]), repr(ds.coords["x"])
    assert y_repr.startswith("<xarray.DataArray 'y' (y: 10980)> Size: 88kB")
    assert "array([4600015, 4600005, 4599995, ..., 4490245, 4490235, 4490225]," in y_repr
    assert "y        (y) int64 88kB 4600015 4600005 4599995 ... 4490245 4490235 4490225" in y_repr
    assert "array([399965, 399975, 399985, ..., 509735, 509745, 509755], shape=(10980,))" in x_repr
    assert "x        (x) int64 88kB 399965 399975 399985 399995 ... 509735 509745 509755" in x_repr


def test_b08_decodes_from_digital_counts(datatree: xr.DataTree) -> None:
    """Chapter 2 says the values are decoded reflectance: counts x 0.0001 - 0.1, 0 = no data."""
    b08 = datatree["/measurements/reflectance/r10m"]["b08"]
    assert str(b08.encoding["dtype"]) == "uint16"
    assert b08.encoding["scale_factor"] == pytest.approx(0.0001)
    assert b08.encoding["add_offset"] == pytest.approx(-0.1)
    assert int(b08.encoding["_FillValue"]) == 0
    assert b08.dtype.kind == "f"


def test_chapter_2_window_reads_one_chunk(datatree: xr.DataTree, product_href: str) -> None:
    b08 = datatree["/measurements/reflectance/r10m"]["b08"]
    window = b08.sel(x=slice(450_000, 452_000), y=slice(4_550_000, 4_548_000))
    assert window.shape == (200, 200)
    with TrafficMeter() as meter:
        window.mean().compute()
    assert meter.chunks_read == 1
    assert meter.store_keys(product_href) == ["measurements/reflectance/r10m/b08/2.2"]


def test_analysis_mode_puts_bands_on_the_20m_grid(product_href: str) -> None:
    """Chapter 2's table: b05 native at 20 m, b08 only at 10 m, b09 only at 60 m."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dask's chunk-count warnings from resampling
        ds = xr.open_dataset(
            product_href, engine="eopf-zarr", op_mode="analysis", resolution=20, chunks={}
        )
    for name in ("b05", "b08", "b09", "scl"):
        assert ds[name].dims == ("y", "x")
        assert ds[name].shape == (5490, 5490)
    assert "spatial_ref" in ds.coords
    assert ds["scl"].dtype == "uint8"
