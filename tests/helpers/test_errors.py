"""Every failure a reader can meet gives one clear line at the reader's own call.

One test each: unknown collection; unknown item; unreachable ``EOPF_STAC_URL``; a live item
whose product is gone from the rolling archive; missing credentials; port in use; a corrupt
cache entry (detected, regenerated, logged); an interrupted download. Then the transport's
last word: when retries run out, a one-line book error, never fill values in place of data.
"""

from __future__ import annotations

import http.server
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import xarray as xr
from pystac_client import Client

from helpers import credentials, data_source, retries
from helpers.errors import (
    EOPFBookError,
    InterruptedDownloadError,
    MissingCredentialsError,
    PortInUseError,
    ServiceUnreachableError,
    UnknownCollectionError,
    UnknownItemError,
)
from helpers.sample_service import catalog, faults
from helpers.sample_service.cache import VerifiedCache
from helpers.sample_service.launcher import ThreadedServer
from helpers.sample_service.zarr_store import ProductStore

S2_ITEM = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
B01_60M = "measurements/reflectance/r60m/b01"


def one_line(error: BaseException) -> str:
    message = str(error)
    assert isinstance(error, EOPFBookError) and message and "\n" not in message
    return message


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


@pytest.fixture
def quick_retries() -> Iterator[retries.RetryPolicy]:
    """Three short tries, for tests that run out of them; the previous policy afterwards."""
    previous = retries.current_policy()
    policy = retries.RetryPolicy(attempts=3, backoff=0.01, backoff_max=0.02)
    retries.install(policy)
    yield policy
    retries.install(previous)


def test_unknown_collection(sample_service_url: str) -> None:
    client = Client.open(sample_service_url)
    with pytest.raises(UnknownCollectionError) as caught:
        data_source.get_item(client, "sentinel-2-l2x", S2_ITEM)
    message = one_line(caught.value)
    assert message.startswith("No collection 'sentinel-2-l2x' in this STAC API.")
    assert "sentinel-2-l2a" in message  # what exists instead


def test_unknown_item_names_the_collection_and_suggests_a_search(sample_service_url: str) -> None:
    client = Client.open(sample_service_url)
    typo = S2_ITEM.replace("T26TML", "T26TMX")
    with pytest.raises(UnknownItemError) as caught:
        data_source.get_item(client, "sentinel-2-l2a", typo)
    message = one_line(caught.value)
    assert f"No item '{typo}' in collection 'sentinel-2-l2a'" in message
    assert "client.search(collections=['sentinel-2-l2a']" in message


def test_unreachable_stac_url_names_it_and_suggests_unsetting_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/stac/"
    monkeypatch.setenv("EOPF_STAC_URL", url)
    with pytest.raises(ServiceUnreachableError) as caught:
        data_source.stac_root_url()
    message = one_line(caught.value)
    assert message.startswith(f"Cannot reach {url}: connection refused.")
    assert "unset EOPF_STAC_URL to use the local sample service" in message
    # A server that accepts but never answers: the message gives the time actually waited.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with pytest.raises(ServiceUnreachableError) as caught:
            data_source.check_stac_api(silent_url, timeout=0.5)
    assert one_line(caught.value).startswith(f"Cannot reach {silent_url}: no answer within 0.5 s")


def test_missing_credentials_name_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EOPF_STAC_URL", "https://stac.core.eopf.eodc.eu/")
    monkeypatch.delenv("CDSE_USERNAME", raising=False)
    monkeypatch.delenv("CDSE_PASSWORD", raising=False)
    with pytest.raises(MissingCredentialsError) as caught:
        credentials.cdse_access()
    message = one_line(caught.value)
    assert message.startswith("Set CDSE_USERNAME and CDSE_PASSWORD to use the live CDSE download")


def test_port_in_use_says_which_and_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    class NotOurs(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"another program")

        def log_message(self, *args: object) -> None:
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotOurs)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    port = other.server_address[1]
    monkeypatch.delenv("EOPF_STAC_URL", raising=False)
    monkeypatch.setenv("EOPF_SAMPLE_PORT", str(port))
    try:
        with pytest.raises(PortInUseError) as caught:
            data_source.stac_root_url()  # the first line of every chapter
    finally:
        other.shutdown()
        other.server_close()
    message = one_line(caught.value)
    assert message.startswith(f"Port {port} is in use by another program.")
    assert f"EOPF_SAMPLE_PORT={port + 1}" in message


def test_a_corrupt_cache_entry_is_detected_regenerated_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ProductStore(catalog.get_product(S2_ITEM), VerifiedCache(tmp_path))
    key = f"{B01_60M}/0.0"
    original = store.get(key)
    (entry,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    damaged = bytearray(entry.read_bytes())
    damaged[-10] ^= 0xFF  # one flipped byte in the payload
    entry.write_bytes(bytes(damaged))

    with caplog.at_level(logging.WARNING, logger="helpers.sample_service"):
        again = ProductStore(catalog.get_product(S2_ITEM), VerifiedCache(tmp_path)).get(key)
    assert again == original
    assert entry.read_bytes() != bytes(damaged)  # the entry was rewritten
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "corrupt entry" in warnings[0] and "regenerating" in warnings[0]


def test_an_interrupted_download_is_one_line_not_a_wrong_number(quick_retries: object) -> None:
    # Every answer for b01's chunks is cut off mid-body, on every attempt.
    spec = faults.parse(f"drop=1,seed=2,match=/{B01_60M}/")
    with ThreadedServer(faults=spec.middleware()) as server:
        item = Client.open(server.url).get_collection("sentinel-2-l2a").get_item(S2_ITEM)
        asset = item.assets["product"]
        tree = xr.open_datatree(asset.href, **asset.extra_fields["xarray:open_datatree_kwargs"])
        with pytest.raises(InterruptedDownloadError) as caught:
            tree["/measurements/reflectance/r60m"].to_dataset()["b01"].values  # noqa: B018
    message = one_line(caught.value)
    assert message.startswith("The download of http://127.0.0.1:")
    assert f"/{B01_60M}/" in message and "was interrupted after" in message


def test_retries_that_run_out_say_so_instead_of_filling_in(quick_retries: object) -> None:
    # zarr 2 reads any OSError while fetching a chunk as "no such chunk" and fills in the fill
    # value; a refused connection is an OSError. The book's errors are not.
    with ThreadedServer() as server:
        item = Client.open(server.url).get_collection("sentinel-2-l2a").get_item(S2_ITEM)
        asset = item.assets["product"]
        tree = xr.open_datatree(asset.href, **asset.extra_fields["xarray:open_datatree_kwargs"])
    band = tree["/measurements/reflectance/r60m"].to_dataset()["b01"]
    with pytest.raises(ServiceUnreachableError) as caught:
        band.values  # noqa: B018  (the service has stopped)
    assert "connection refused" in one_line(caught.value)

    failing = faults.parse(f"rate=1,seed=4,match=/{B01_60M}/")
    with ThreadedServer(faults=failing.middleware()) as server:
        item = Client.open(server.url).get_collection("sentinel-2-l2a").get_item(S2_ITEM)
        asset = item.assets["product"]
        tree = xr.open_datatree(asset.href, **asset.extra_fields["xarray:open_datatree_kwargs"])
        with pytest.raises(ServiceUnreachableError) as caught:
            tree["/measurements/reflectance/r60m"].to_dataset()["b01"].values  # noqa: B018
    assert "to 3 attempts" in one_line(caught.value)
