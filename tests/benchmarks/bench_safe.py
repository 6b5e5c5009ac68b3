"""SAFE against EOPF Zarr for the 60 m true colour image: bytes downloaded, in one run.

The seed's headline: its SAFE zip was 170 MB, of which one 0.45 MB file was used, while EOPF Zarr
needed 1.24 MB (0.61 MB to open the DataTree, 0.63 MB of TCI chunks), and less when the TCI array
is opened directly. Both paths run here against an in-process sample service (the SAFE archive
from its cache, built on first use): the whole authenticated download, and the TCI read through
the DataTree and through the array alone, metered with ``helpers.traffic.TrafficMeter``.
"""

from __future__ import annotations

import time

import requests
import xarray as xr
import zarr
from pystac_client import Client

from helpers.sample_service import settings
from helpers.sample_service.launcher import ThreadedServer
from helpers.traffic import TrafficMeter

ZARR_ITEM_ID = settings.SAFE_PRODUCT_ID
SEED_ZARR_MB = 1.24  # the seed's DataTree path: 0.61 MB to open + 0.63 MB of TCI chunks
SAFE_OVER_ZARR_TARGET = 100.0  # the seed's figures give 170 / 1.24 = 137


def _safe_download_bytes(root: str) -> tuple[int, float]:
    """Token, redirect and whole download, as the chapter does it; (bytes received, seconds)."""
    started = time.perf_counter()
    session = requests.Session()
    answer = session.post(
        root + settings.TOKEN_PATH.lstrip("/"),
        data={
            "client_id": settings.CLIENT_ID,
            "username": settings.SAMPLE_USERNAME,
            "password": settings.SAMPLE_PASSWORD,
            "grant_type": "password",
        },
        timeout=60,
    )
    answer.raise_for_status()
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    item = (
        Client.open(root + "safe-stac/")
        .get_collection(settings.SAFE_COLLECTION_ID)
        .get_item(settings.SAFE_ITEM_ID)
    )
    href = item.assets["PRODUCT"].href
    location = session.get(href, allow_redirects=False, timeout=60).headers["Location"]
    received = 0
    with session.get(location, headers=headers, stream=True, timeout=(10, 900)) as response:
        response.raise_for_status()
        for block in response.iter_content(chunk_size=1 << 20):
            received += len(block)
    return received, time.perf_counter() - started


def _zarr_bytes(root: str) -> dict[str, TrafficMeter]:
    """The TCI through the whole DataTree, and through its array alone."""
    item = Client.open(root).get_collection("sentinel-2-l2a").get_item(ZARR_ITEM_ID)
    product = item.assets["product"]
    with TrafficMeter() as datatree:
        tree = xr.open_datatree(product.href, **product.extra_fields["xarray:open_datatree_kwargs"])
        tree["/quality/l2a_quicklook/r60m"].to_dataset()["tci"].values  # noqa: B018 (the read)
    with TrafficMeter() as array:
        zarr.open_array(item.assets["TCI_10m"].href.replace("/r10m/", "/r60m/"), mode="r")[:]
    return {"datatree": datatree, "array": array}


def measure() -> list[dict]:
    with ThreadedServer() as server:
        safe_bytes, safe_seconds = _safe_download_bytes(server.url)
        meters = _zarr_bytes(server.url)
    datatree = meters["datatree"].bytes_downloaded
    array = meters["array"].bytes_downloaded
    over_zarr = safe_bytes / datatree
    array_ratio = array / datatree
    return [
        {
            "name": "safe: SAFE zip bytes / Zarr bytes for the 60 m TCI (DataTree path)",
            "value": over_zarr,
            "target": f">= {SAFE_OVER_ZARR_TARGET:g}",
            "ok": over_zarr >= SAFE_OVER_ZARR_TARGET,
            "detail": f"SAFE {safe_bytes / 1e6:.1f} MB in {safe_seconds:.1f} s; "
            f"Zarr DataTree {meters['datatree'].summary()}",
        },
        {
            "name": "safe: direct-array bytes / DataTree bytes for the 60 m TCI",
            "value": array_ratio,
            "target": f"< 1 and array < {SEED_ZARR_MB} MB (the seed's Zarr total)",
            "ok": array_ratio < 1.0 and array / 1e6 < SEED_ZARR_MB,
            "detail": f"array {meters['array'].summary()}; DataTree {datatree / 1e6:.3f} MB",
        },
    ]


if __name__ == "__main__":
    for figure in measure():
        print(figure)
