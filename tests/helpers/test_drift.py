"""The reader-facing drift helpers (`helpers.drift`) against both catalogue dates."""

from __future__ import annotations

import datetime as dt

import pystac
import pytest
import xarray as xr
from pystac_client import Client

from helpers.drift import cpm_version, crs_code, find_group, find_item
from helpers.sample_service import settings

TUTORIAL_S2 = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
TILE = {"grid:code": {"eq": "MGRS-26TML"}}


def _item(**properties: object) -> pystac.Item:
    return pystac.Item("x", None, None, dt.datetime(2026, 1, 1), dict(properties))


def test_find_item_takes_the_tutorials_while_the_archive_holds_it(
    sample_service_url: str,
) -> None:
    item, why = find_item(Client.open(sample_service_url), "sentinel-2-l2a", TUTORIAL_S2)
    assert item.id == TUTORIAL_S2 and "tutorial's product" in why


def test_find_item_falls_back_to_the_newest_match(sample_service_url: str) -> None:
    client = Client.open(f"{sample_service_url}{settings.CURRENT_DATE}/")
    item, why = find_item(client, "sentinel-2-l2a", TUTORIAL_S2, query=TILE)
    dates = [i.datetime for i in client.search(collections=["sentinel-2-l2a"], query=TILE).items()]
    assert item.properties["grid:code"] == "MGRS-26TML"
    assert item.datetime == max(dates) and len(dates) >= 3
    assert TUTORIAL_S2 in why and item.id in why and "no longer" in why


def test_find_item_with_nothing_to_fall_back_on_is_one_clear_error(
    sample_service_url: str,
) -> None:
    client = Client.open(f"{sample_service_url}{settings.CURRENT_DATE}/")
    with pytest.raises(LookupError, match="holds neither"):
        find_item(client, "sentinel-2-l2a", TUTORIAL_S2, query={"grid:code": {"eq": "none"}})


def test_crs_code_prefers_proj_code_and_reads_proj_epsg() -> None:
    assert crs_code(_item(**{"proj:code": "EPSG:32626"})) == "EPSG:32626"
    assert crs_code(_item(**{"proj:epsg": 32635})) == "EPSG:32635"
    with pytest.raises(LookupError):
        crs_code(_item())


def test_cpm_version_prefers_the_property_and_reads_the_store_path() -> None:
    stated = _item(**{"processing:software": {"EOPF-CPM": "2.7.0"}})
    assert cpm_version(stated) == "2.7.0"
    in_path = _item()
    in_path.add_asset("product", pystac.Asset("https://x/y/cpm_v256/S2A_MSIL2A_X.zarr"))
    assert cpm_version(in_path) == "2.5.6"
    with pytest.raises(LookupError, match="CPM version"):
        cpm_version(_item())


def test_cpm_version_of_the_sample_catalogue_at_both_dates(sample_service_url: str) -> None:
    """Items of 2025 name the version only in their path; today's state it (CPM 2.7.0)."""
    then = Client.open(sample_service_url).get_collection("sentinel-2-l2a").get_item(TUTORIAL_S2)
    assert "EOPF-CPM" not in then.properties.get("processing:software", {})
    assert cpm_version(then) == "2.5.6"
    today = Client.open(f"{sample_service_url}{settings.CURRENT_DATE}/")
    newest = next(iter(today.search(collections=["sentinel-2-l2a"], max_items=1).items()))
    assert cpm_version(newest) == newest.properties["processing:software"]["EOPF-CPM"]


def test_find_group_by_pattern() -> None:
    tree = xr.DataTree.from_dict(
        {
            "/owi/S01SIWOCN_20261126T193923_0025_A880_3C9E_0A21C4_VV/measurements": xr.Dataset(),
            "/osw/S01SIWOCN_20261126T193923_0025_A880_3C9E_0A21C4_VV/measurements": xr.Dataset(),
        }
    )
    found = find_group(tree, r"/owi/[^/]+/measurements")
    assert found == "/owi/S01SIWOCN_20261126T193923_0025_A880_3C9E_0A21C4_VV/measurements"
    with pytest.raises(LookupError, match="2 groups"):
        find_group(tree, r"/\w+/[^/]+/measurements")


def test_a_reader_counting_matches_gets_none_today(sample_service_url: str) -> None:
    """pystac-client's matched() relies on numberMatched: gone from the 2026 API."""
    then = Client.open(sample_service_url).search(collections=["sentinel-2-l2a"], limit=2)
    assert then.matched() == 8 + 21  # the tutorial's tiles and the season of T32UNE
    today = Client.open(f"{sample_service_url}{settings.CURRENT_DATE}/")
    with pytest.warns(UserWarning):
        assert today.search(collections=["sentinel-2-l2a"], limit=2).matched() is None
