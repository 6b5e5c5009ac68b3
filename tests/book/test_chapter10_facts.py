"""The facts chapter 10 (`book/10_zarr_v3.md`) builds its prose on, checked on the sample service.

Executing the chapter (nbmake, the book build) proves it runs; its sentences are glued from
its own measurements. What the prose explains, though, rests on facts of the stores that a
change to the service could break silently: the 1 km window lies inside one inner chunk, the
coarsest level for a 300-pixel figure is one the pyramid has, a subgroup opened by URL is
empty, pixels without data decode to the offset, and a server without ranges breaks the read.
The chapter's own no-data functions run here too: the value it masks is the arrays' declared
fill value, and its map paints those pixels in the book's no-data colour, not black.
Only metadata, one index and a few inner chunks are read, so the file stays fast.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr
from matplotlib.colors import to_rgb

from helpers.figures import NO_DATA_COLOUR
from helpers.local_server import FolderServer
from helpers.sample_service import settings, zarr3_catalog
from helpers.traffic import TrafficMeter

CHAPTER = Path(__file__).resolve().parents[2] / "book" / "10_zarr_v3.md"
RECORD = zarr3_catalog.records_on(settings.CURRENT_DATE)[0]


@pytest.fixture(scope="module")
def v3_href(sample_service_url: str) -> str:
    return f"{sample_service_url}{settings.CURRENT_DATE}/{zarr3_catalog.store_path(RECORD)}"


def _chapter_function(name: str) -> dict:
    """A namespace holding function ``name`` as the chapter defines it (up to the next
    unindented line), with the names it uses."""
    text = CHAPTER.read_text("utf-8")
    match = re.search(rf"^def {name}\(.*?(?=^\S)", text, re.M | re.S)
    assert match, f"the chapter no longer defines {name}"
    namespace = {"np": np, "to_rgb": to_rgb, "NO_DATA_COLOUR": NO_DATA_COLOUR}
    exec(match.group(0), namespace)
    return namespace


def _chapter_window() -> tuple[int, int]:
    match = re.search(r'WINDOW = \{"y": slice\((\d+), (\d+)\)', CHAPTER.read_text("utf-8"))
    assert match, "the chapter's WINDOW line changed"
    return int(match.group(1)), int(match.group(2))


def test_the_window_lies_in_one_inner_chunk(v3_href: str) -> None:
    start, stop = _chapter_window()
    assert stop - start == 100  # 1 km at 10 m
    array = zarr.open_array(f"{v3_href}/measurements/reflectance/r10m/b04", mode="r")
    inner = array.chunks[0]
    assert start // inner == (stop - 1) // inner
    ds = xr.open_dataset(
        v3_href, engine="zarr", group="measurements/reflectance/r10m", zarr_format=3, chunks={}
    )
    with TrafficMeter() as meter:
        ds["b04"].isel(y=slice(start, stop), x=slice(start, stop)).compute()
    assert [record.status for record in meter.records] == [206, 206]  # index, inner chunk


def test_the_figure_level_exists_and_is_coarse(v3_href: str) -> None:
    tree = xr.open_datatree(v3_href, engine="zarr", zarr_format=3)
    layout = tree["measurements/reflectance"].attrs["multiscales"]["layout"]
    pixels = {entry["asset"]: entry["spatial:shape"][0] for entry in layout}
    best = min((n for n, p in pixels.items() if p >= 300), key=pixels.get)
    assert pixels[best] < pixels["r60m"] // 4  # a real saving against r60m


def test_subgroup_by_url_is_empty_and_group_is_not(v3_href: str) -> None:
    group = "measurements/reflectance/r10m"
    by_url = xr.open_dataset(f"{v3_href}/{group}", engine="zarr", zarr_format=3, consolidated=False)
    assert list(by_url.data_vars) == []
    by_group = xr.open_dataset(v3_href, engine="zarr", zarr_format=3, group=group)
    assert {"b02", "b03", "b04", "b08"} <= set(by_group.data_vars)


def test_no_data_decodes_to_the_offset(v3_href: str) -> None:
    band = xr.open_dataset(
        v3_href, engine="zarr", group="measurements/reflectance/r720m", zarr_format=3
    )["b04"]
    assert "_FillValue" not in band.attrs
    offset = band.encoding["add_offset"]
    assert int(band.isnull().sum()) == 0 and int((band == offset).sum()) > 0


def test_the_chapter_masks_the_declared_fill_value(v3_href: str) -> None:
    no_data_value = _chapter_function("no_data_value")["no_data_value"]
    group = {"engine": "zarr", "group": "measurements/reflectance/r720m", "zarr_format": 3}
    band = xr.open_dataset(v3_href, **group)["b04"]
    counts = xr.open_dataset(v3_href, mask_and_scale=False, **group)["b04"]
    fill = zarr.open_array(f"{v3_href}/measurements/reflectance/r720m/b04").fill_value
    without_data = int((counts == fill).sum())
    assert without_data > 0  # the map has no-data pixels to show
    assert int((band == no_data_value(band)).sum()) == without_data


def test_the_map_paints_no_data_in_the_no_data_colour() -> None:
    true_colour = _chapter_function("true_colour")["true_colour"]
    values = np.full((3, 4, 5), 0.15)
    values[:, 0, :2] = np.nan  # two pixels without data in every band
    values[0, 3, 4] = np.nan  # one pixel without red
    rgb = xr.DataArray(values, dims=("band", "y", "x"))
    picture = true_colour(rgb)
    assert picture.shape == (4, 5, 3)
    missing = np.zeros((4, 5), dtype=bool)
    missing[0, :2] = missing[3, 4] = True
    assert np.allclose(picture[missing], to_rgb(NO_DATA_COLOUR))
    assert np.allclose(picture[~missing], 0.5)  # 0.15 of the 0 to 0.3 stretch
    assert to_rgb(NO_DATA_COLOUR) != (0.0, 0.0, 0.0)


def test_a_server_without_ranges_breaks_the_read(v3_href: str, tmp_path: Path) -> None:
    # r60m: several inner chunks, so a small read needs the index (r720m has one chunk)
    source = zarr.open_array(f"{v3_href}/measurements/reflectance/r60m/b04", mode="r")
    copy = zarr.create_array(
        tmp_path / "b04.zarr",
        shape=source.shape,
        dtype=source.dtype,
        chunks=source.chunks,
        shards=source.shards,
        compressors=source.compressors,
        fill_value=source.fill_value,
    )
    copy[:] = source[:]
    with FolderServer(tmp_path) as server, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="checksum"):
            zarr.open_array(f"{server.url}/b04.zarr", mode="r")[:10, :10]
