"""Items carry the fields live items carry: ``view:sun_*`` and ``eo:snow_cover`` (issue 16).

The live Sentinel-2 items of every date in the reference captures state the tile's mean sun
angles and its snow cover, and list the view extension; the replica's must too, with the
numbers its store states, so an item and its product never disagree.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from helpers.sample_service import catalog, products, scenes, stac_items
from helpers.sample_service.solar import solar_angles

VIEW_EXTENSION = "https://stac-extensions.github.io/view/v1.0.0/schema.json"
S2_RECORDS = [r for r in catalog.PRODUCTS if r.collection == catalog.S2_L2A]
# One record of each CPM version (the item layouts differ from 2.6.2 on).
S2_BY_CPM = {r.cpm_version: r for r in S2_RECORDS}


@pytest.mark.parametrize("record", list(S2_BY_CPM.values()), ids=lambda r: r.cpm_version)
def test_s2_items_state_sun_angles_and_snow_and_list_the_view_extension(
    record: catalog.ProductRecord,
) -> None:
    item = stac_items.build_item(record, "http://127.0.0.1:1/")
    props = item["properties"]
    assert VIEW_EXTENSION in item["stac_extensions"]
    assert {"view:sun_azimuth", "view:sun_elevation", "eo:snow_cover"} <= set(props)
    other = products.build_zmetadata(record)["metadata"][".zattrs"]["other_metadata"]
    stac = products.build_zmetadata(record)["metadata"][".zattrs"]["stac_discovery"]
    # The live items put the mean zenith under view:sun_elevation (sic, see stac_items).
    zenith = other["mean_sun_zenith_angle_in_deg_for_all_bands_all_detectors"]
    azimuth = other["mean_sun_azimuth_angle_in_deg_for_all_bands_all_detectors"]
    assert props["view:sun_elevation"] == pytest.approx(zenith, abs=1e-9)
    assert props["view:sun_azimuth"] == pytest.approx(azimuth, abs=1e-9)
    assert props["eo:snow_cover"] == stac["properties"]["eo:snow_cover"]


def test_item_sun_angles_are_the_means_of_the_stores_angle_grid() -> None:
    record = S2_BY_CPM["cpm_v256"]
    spec = products.array_specs(products.build_zmetadata(record))["conditions/geometry/sun_angles"]
    grid = scenes.chunk_values(record, spec, (0,) * len(spec.shape))
    props = stac_items.build_item(record, "http://127.0.0.1:1/")["properties"]
    assert props["view:sun_elevation"] == pytest.approx(float(np.mean(grid[0])), abs=1e-4)
    assert props["view:sun_azimuth"] == pytest.approx(float(np.mean(grid[1])), abs=1e-4)


def test_item_sun_angles_are_those_of_the_solar_model_at_the_tile_centre() -> None:
    """A check independent of the grid: the mean is close to the centre's sun (within 1.5 deg)."""
    for record in S2_RECORDS:
        props = stac_items.build_item(record, "http://127.0.0.1:1/")["properties"]
        lat, lon = props["proj:centroid"]["lat"], props["proj:centroid"]["lon"]
        when = dt.datetime.fromisoformat(record.start_datetime)
        zenith, azimuth = solar_angles(lat, lon, when)
        assert props["view:sun_elevation"] == pytest.approx(float(zenith), abs=1.5), record.id
        assert props["view:sun_azimuth"] == pytest.approx(float(azimuth), abs=3.0), record.id
        assert 0 <= props["view:sun_elevation"] <= 90 and 0 <= props["view:sun_azimuth"] < 360


def test_snow_cover_follows_the_scene_arctic_tiles_only() -> None:
    south = [r for r in S2_RECORDS if catalog.footprint(r)[0][3] < 60]
    north = [r for r in S2_RECORDS if catalog.footprint(r)[0][1] > 60]
    assert south and north
    assert {catalog.snow_cover(r) for r in south} == {0.0}
    assert {catalog.snow_cover(r) for r in north} == {catalog.ARCTIC_SNOW_COVER}


@pytest.mark.parametrize("collection", [catalog.S1_OCN, catalog.S3_LFR])
def test_collections_whose_live_items_lack_them_do_not_gain_them(collection: str) -> None:
    record = next(r for r in catalog.PRODUCTS if r.collection == collection)
    item = stac_items.build_item(record, "http://127.0.0.1:1/")
    assert VIEW_EXTENSION not in item["stac_extensions"]
    assert not [k for k in item["properties"] if k.startswith("view:") or k == "eo:snow_cover"]
