"""The dated catalogue: what the service holds on each date, and the drift between CPM versions.

Each test names one drift a reader meets on the live service (product gone, no quicklook,
``proj:code`` only, id in the group name, int-encoded coordinates, no ``numberMatched``) and
checks that the sample service replicates it on the current date and not on the tutorial's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import xarray as xr
from pystac_client import Client

from helpers.sample_service import catalog, launcher, products, settings
from helpers.sample_service.catalog import S1_OCN, S2_L2A, S3_LFR
from helpers.sample_service.errors import SettingError

TODAY = settings.CURRENT_DATE
TUTORIAL_S2 = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


@pytest.fixture(scope="module")
def today_url(sample_service_url: str) -> str:
    return f"{sample_service_url}{TODAY}/"


@pytest.fixture(scope="module")
def today_client(today_url: str) -> Client:
    return Client.open(today_url)


def _newest(client: Client, collection: str, **search: Any):
    return next(client.search(collections=[collection], sortby="-datetime", **search).items())


# --- The setting -------------------------------------------------------------------------------


def test_date_setting_defaults_to_the_tutorials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.DATE_VAR, raising=False)
    assert settings.sample_date() == "2025-06-18"
    monkeypatch.setenv(settings.DATE_VAR, " 2026-11-29 ")
    assert settings.sample_date() == "2026-11-29"


@pytest.mark.parametrize("bad", ["2026-11-30", "yesterday", "2025-6-18"])
def test_unsupported_date_is_one_line_naming_the_supported(bad: str) -> None:
    with pytest.raises(SettingError) as error:
        settings.sample_date(bad)
    message = str(error.value)
    assert "\n" not in message and bad in message
    assert all(date in message for date in settings.SUPPORTED_DATES)


def test_launcher_urls_carry_the_date() -> None:
    assert launcher.catalogue_url(8814, "2025-06-18") == "http://127.0.0.1:8814/"
    assert launcher.catalogue_url(8814, TODAY) == f"http://127.0.0.1:8814/{TODAY}/"


def test_launcher_refuses_a_bad_date_before_starting_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(settings.DATE_VAR, "1999-01-01")
    monkeypatch.setattr(launcher, "_ensure_service", lambda *a: pytest.fail("started"))
    with pytest.raises(SettingError):
        launcher.ensure_running()


# --- What each date holds ------------------------------------------------------------------------


def test_rolling_window_tutorial_products_only_on_their_date() -> None:
    then = {r.id for r in catalog.products_on(settings.TUTORIAL_DATE)}
    now = {r.id for r in catalog.products_on(TODAY)}
    assert TUTORIAL_S2 in then and TUTORIAL_S2 not in now
    assert not then & now
    assert all(r.start_datetime[:10] <= TODAY for r in catalog.products_on(TODAY))


def test_today_has_several_tiles_and_dates_per_collection() -> None:
    for collection in (S2_L2A, S1_OCN, S3_LFR):
        held = catalog.products_in(collection, TODAY)
        assert len({r.start_datetime[:10] for r in held}) >= 3, collection
    tiles = {r.mgrs_tile for r in catalog.products_in(S2_L2A, TODAY)}
    assert len(tiles) >= 3
    assert {r.cpm_version for r in catalog.products_on(TODAY)} == {"cpm_v262", "cpm_v270"}


def test_store_paths_follow_the_cpm_version() -> None:
    by_version = {r.cpm_version: r for r in catalog.products_in(S2_L2A)}
    assert "/products/cpm_v256/" in catalog.product_path(by_version["cpm_v256"])
    assert re.match(
        r"objects/\d{6}-s02msil2a-eu/\d\d/products/cpm_v262/",
        catalog.product_path(by_version["cpm_v262"]),
    )
    assert re.match(
        r"data/collections/EOPF_ZARR/products/cpm_v270/S02MSIL2A/\d{4}/\d\d/\d\d/",
        catalog.product_path(by_version["cpm_v270"]),
    )


def test_product_gone_item_and_store(sample_service_url: str, today_url: str) -> None:
    item_path = f"collections/{S2_L2A}/items/{TUTORIAL_S2}"
    assert _get(sample_service_url + item_path)[0] == 200
    assert _get(today_url + item_path)[0] == 404
    store = catalog.product_path(catalog.get_product(TUTORIAL_S2))
    assert _get(f"{sample_service_url}{store}/.zmetadata")[0] == 200
    assert _get(f"{today_url}{store}/.zmetadata")[0] == 404


# --- STAC conventions ----------------------------------------------------------------------------


def test_no_number_matched_today_and_tokens_name_collection_and_id(
    sample_service_url: str, today_url: str
) -> None:
    query = f"search?collections={S2_L2A}&limit=2"
    _, then = _get(sample_service_url + query)
    _, now = _get(today_url + query)
    assert then["numberMatched"] >= 2 and "context" in then
    assert "numberMatched" not in now and "context" not in now
    token = next(link for link in now["links"] if link["rel"] == "next")["href"]
    last = now["features"][-1]
    assert token.endswith(f"token=next%3A{S2_L2A}%3A{last['id']}")


def test_items_from_cpm_262_are_stac_11_with_raster_v2(today_client: Client) -> None:
    item = _newest(today_client, S2_L2A)
    assert item.properties["processing:software"] == {"EOPF-CPM": "2.7.0"}
    extensions = item.stac_extensions
    assert any("raster/v2" in e for e in extensions) and any("eo/v2" in e for e in extensions)
    band = item.assets["B04_10m"].extra_fields
    assert (band["raster:scale"], band["raster:offset"], band["nodata"]) == (0.0001, -0.1, 0)
    assert band["bands"][0]["eo:common_name"] == "red"
    assert "xarray:open_dataset_kwargs" in item.assets["SR_10m"].extra_fields
    assert "zipped_product" in item.assets


def test_crs_is_proj_code_only(today_client: Client) -> None:
    item = _newest(today_client, S2_L2A)
    assert item.properties["proj:code"].startswith("EPSG:326")
    assert "proj:epsg" not in item.properties
    meta = products.build_zmetadata(catalog.get_product(item.id))["metadata"]
    crs_attrs = [k for k, v in meta.items() if k.endswith(".zattrs") and "proj:epsg" in v]
    assert crs_attrs == []
    then = products.build_zmetadata(catalog.get_product(TUTORIAL_S2))["metadata"]
    assert then["measurements/reflectance/r10m/b04/.zattrs"]["proj:epsg"] == 32626


def test_no_quicklook_group_but_tci_still_advertised(
    sample_service_url: str, today_client: Client
) -> None:
    item = _newest(today_client, S2_L2A)
    _, zmetadata = _get(item.assets["product_metadata"].href)
    assert not [k for k in zmetadata["metadata"] if k.startswith("quality/l2a_quicklook")]
    assert _get(item.assets["TCI_10m"].href + "/.zarray")[0] == 404
    old = Client.open(sample_service_url).get_collection(S2_L2A).get_item(TUTORIAL_S2)
    assert _get(old.assets["TCI_10m"].href + "/.zarray")[0] == 200


def test_ocn_group_name_embeds_the_product(today_client: Client) -> None:
    item = _newest(today_client, S1_OCN)
    _, zmetadata = _get(item.assets["product_metadata"].href)
    groups = {k.split("/")[1] for k in zmetadata["metadata"] if k.startswith("owi/")}
    (group,) = groups - {".zattrs", ".zgroup"}
    start, datatake, crc = item.id.split("_")[5], item.id.split("_")[8], item.id.split("_")[9]
    assert group.startswith(f"S01SIWOCN_{start}_") and group.endswith(f"_{crc}_{datatake}_VV")


def test_lfr_coordinates_and_gifapar_are_int_encoded(today_client: Client) -> None:
    item = _newest(today_client, S3_LFR)
    product = item.assets["product"]
    tree = xr.open_datatree(product.href, **product.extra_fields["xarray:open_datatree_kwargs"])
    ds = tree["/measurements"].to_dataset()
    assert ds.latitude.encoding["dtype"] == "int32" and ds.gifapar.encoding["dtype"] == "uint8"
    assert ds.latitude.encoding["scale_factor"] == 1e-06
    west, south, east, north = item.bbox
    corner = ds.isel(rows=slice(0, 4), columns=slice(0, 4)).compute()
    assert south <= float(corner.latitude.min()) and float(corner.latitude.max()) <= north
    assert west <= float(corner.longitude.min()) and float(corner.longitude.max()) <= east
    gifapar = ds.gifapar.isel(rows=slice(0, 1024), columns=slice(1024, 2048)).values
    valid = gifapar[~xr.DataArray(gifapar).isnull().values]
    assert valid.size and valid.min() > 0 and valid.max() <= 1.0


def test_make_serve_with_a_bad_date_is_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "helpers.sample_service", "--port", "1"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, settings.DATE_VAR: "2030-01-01"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == settings.EXIT_CANNOT_LISTEN and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "2030-01-01" in line and all(d in line for d in settings.SUPPORTED_DATES)
