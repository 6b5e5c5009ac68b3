"""Staging items: the live layout, and the pitfalls it sets for the tutorial's code."""

from __future__ import annotations

import json
import urllib.request

import pystac
import pytest
from pystac_client import Client

from helpers.sample_service import settings, zarr3_catalog, zarr3_items

V3_MEDIA_TYPE = "application/vnd.zarr; version=3"


@pytest.fixture(scope="module")
def staging_item(sample_service_url: str) -> pystac.Item:
    client = Client.open(f"{sample_service_url}{settings.CURRENT_DATE}/")
    search = client.search(collections=[zarr3_catalog.S2_L2A_ZARR3], sortby="-datetime", limit=1)
    return next(search.items())


def test_assets_as_on_the_live_items(staging_item: pystac.Item) -> None:
    layout = json.loads(zarr3_items._TEMPLATE.read_text(encoding="utf-8"))
    assert list(staging_item.assets) == list(layout["assets"])
    assert staging_item.properties["processing:software"]["EOPF_CPM"] == "3.0.0"
    assert staging_item.properties["proj:code"].startswith("EPSG:326")
    assert "PROJCS" in staging_item.properties["proj:wkt2"]
    xmin, ymin, xmax, ymax = staging_item.properties["proj:bbox"]
    assert xmax - xmin == ymax - ymin == 109_800  # metres, not degrees


def test_tutorial_code_pitfalls(staging_item: pystac.Item) -> None:
    assert staging_item.get_assets(media_type=pystac.MediaType.ZARR) == {}
    assert set(staging_item.get_assets(media_type=V3_MEDIA_TYPE)) >= {"product", "SR_10m"}
    for asset in staging_item.assets.values():
        with pytest.raises(KeyError):
            asset.extra_fields["xarray:open_datatree_kwargs"]
    assert "thumbnail" not in staging_item.assets and "TCI_10m" not in staging_item.assets


def test_group_hrefs_resolve(staging_item: pystac.Item) -> None:
    for key, asset in staging_item.assets.items():
        if asset.media_type != V3_MEDIA_TYPE:
            continue
        with urllib.request.urlopen(asset.href + "/zarr.json", timeout=60) as response:
            document = json.loads(response.read())
        assert document["node_type"] == "group", key
        assert document["zarr_format"] == 3
