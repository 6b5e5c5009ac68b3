"""A flaky network changes no number: fault injection in the service, retries in the reader.

What must hold: with a fifth of the requests answered 5xx, 200 ms added to every answer and some
bodies cut off mid-way, the seed's own code (``Client.open``, ``get_item``,
``xr.open_datatree(href, **kwargs)``) gives the same scene mean of b08, the same TCI pixels and
the same traffic-meter figures as without faults; the faults really happened and were retried;
the fault decisions are repeatable from their seed whatever the request order; and the retry
installation merges with other fsspec settings and respects an explicit choice.
"""

from __future__ import annotations

import hashlib
import http.client
import json
from typing import Any

import dask
import fsspec.config
import pytest
import xarray as xr
from pystac_client import Client
from pystac_client.stac_api_io import StacApiIO

from helpers import data_source, retries, traffic
from helpers.sample_service import catalog, faults
from helpers.sample_service.launcher import ThreadedServer
from helpers.traffic import TrafficMeter

S2_ITEM = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
FAULTS = "rate=0.2,latency=0.2,drop=0.05,seed=1"


def _figures(meter: TrafficMeter) -> dict[str, Any]:
    """What a chapter reports about a read, plus the keys (sorted: concurrent reads race)."""
    numbers = meter.as_dict()
    del numbers["seconds"], numbers["megabytes"]  # time is the one thing faults may change
    return {**numbers, "keys": sorted(meter.keys)}


def _read_like_the_seed(url: str) -> dict[str, Any]:
    """The seed's Sentinel-2 code: open the product, the scene mean of b08, the 60 m TCI."""
    client = Client.open(url)
    collection = client.get_collection(collection_id="sentinel-2-l2a")
    item = collection.get_item(id=S2_ITEM)
    asset = item.assets["product"]
    with TrafficMeter() as opening:
        dt = xr.open_datatree(asset.href, **asset.extra_fields["xarray:open_datatree_kwargs"])
    with TrafficMeter() as band:
        b08_mean = dt["/measurements/reflectance/r10m"].to_dataset()["b08"].mean().compute().item()
    with TrafficMeter() as quicklook:
        tci = dt["/quality/l2a_quicklook/r60m"].to_dataset()["tci"].values
    return {
        "b08 mean": b08_mean,
        "tci": (tci.shape, str(tci.dtype), hashlib.sha256(tci.tobytes()).hexdigest()),
        "open": _figures(opening),
        "b08": _figures(band),
        "tci read": _figures(quicklook),
    }


@pytest.mark.slow
def test_faults_change_no_number() -> None:
    retries.install()
    # More dask threads than the CI's two cores: the chunk reads wait on latency, not CPU.
    with dask.config.set(scheduler="threads", num_workers=8):
        with ThreadedServer() as server:
            clean = _read_like_the_seed(server.url)
        before = retries.stats()
        injector = faults.FaultInjector(faults.parse(FAULTS))
        with ThreadedServer(faults=injector.middleware) as server:
            faulty = _read_like_the_seed(server.url)
        after = retries.stats()

    assert faulty == clean
    assert clean["b08"]["chunk_requests"] == 36  # the whole band: 6 x 6 chunks of 1830
    # The faults did happen, and were survived by retrying, never by giving up.
    assert injector.counts["fail"] > 0 and injector.counts["drop"] > 0
    retried = {cause: after[cause] - before[cause] for cause in after}
    assert retried["status"] > 0 and retried["body"] > 0
    assert retried["gave_up"] == 0


# --- the injector ---------------------------------------------------------------------------------


def test_fault_decisions_follow_the_seed_not_the_order() -> None:
    spec = faults.parse(FAULTS)
    requests = [("GET", f"/objects/x.zarr/b08/{i}.{j}", "") for i in range(30) for j in range(30)]
    # Each request asked three times, in two different interleavings.
    forward = faults.FaultInjector(spec)
    first = {(r, n): forward.decide(*r) for n in range(3) for r in requests}
    backward = faults.FaultInjector(spec)
    second = {(r, n): backward.decide(*r) for r in reversed(requests) for n in range(3)}
    assert first == second
    other = faults.FaultInjector(faults.parse(FAULTS.replace("seed=1", "seed=2")))
    third = {(r, n): other.decide(*r) for n in range(3) for r in requests}
    assert third != first
    outcomes = [outcome for outcome, _ in first.values()]
    # 2700 draws: the shares are near the asked-for rates (fixed seed, so no flakiness).
    assert 0.17 < outcomes.count("fail") / len(outcomes) < 0.23
    assert 0.03 < outcomes.count("drop") / len(outcomes) < 0.07


def test_fault_spec_syntax() -> None:
    spec = faults.parse(" rate=0.2, latency=0.2,drop=0.05 ,seed=1")
    assert (spec.rate, spec.latency, spec.drop, spec.seed) == (0.2, 0.2, 0.05, 1)
    assert spec.describe() == "rate=0.2,latency=0.2,drop=0.05,seed=1"
    assert faults.parse("match=/b08/").match == "/b08/"
    assert not faults.parse("").active
    for text, problem in (
        ("rate=2", "rate must be a fraction"),
        ("rate=0.6,drop=0.6", "rate + drop cannot exceed 1"),
        ("latency=-1", "latency must be"),
        ("speed=3", "'speed=3' is not one of"),
        ("rate", "'rate' is not one of"),
        ("rate=lots", "rate must be a number"),
        ("match=(", "match is not a regular expression"),
    ):
        with pytest.raises(faults.FaultSpecError) as caught:
            faults.parse(text)
        message = str(caught.value)
        assert problem in message and "EOPF_SAMPLE_FAULTS" in message and "\n" not in message


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        headers = dict(response.getheaders())
        try:
            body = response.read()
        except http.client.IncompleteRead as cut:
            body = cut.partial
        return response.status, headers, body
    finally:
        connection.close()


def test_the_environment_switches_faults_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EOPF_SAMPLE_FAULTS", "rate=1,seed=3")
    with ThreadedServer() as server:
        status, headers, body = _get(server.port, "/collections")
        landing, _, _ = _get(server.port, "/")
    assert status in faults.FAILURE_STATUSES
    assert json.loads(body)["code"] == "InjectedFault"
    assert headers["Server"].startswith("eopf-sample-service/")  # still recognisably ours
    assert landing == 200  # the root is spared: the launcher's check must keep working


def test_a_dropped_answer_promises_more_than_it_sends() -> None:
    record = catalog.get_product(S2_ITEM)
    key = "/" + catalog.product_path(record) + "/.zmetadata"
    with ThreadedServer(faults=faults.parse("drop=1,seed=5").middleware()) as server:
        status, headers, body = _get(server.port, key)
    assert status == 200
    assert 0 < len(body) < int(headers["Content-Length"])


# --- the retry installation -----------------------------------------------------------------------


def test_install_merges_with_the_traffic_meter_and_is_idempotent() -> None:
    traffic.install()
    retries.install()
    retries.install()
    client_kwargs = fsspec.config.conf["http"]["client_kwargs"]
    assert [m for m in client_kwargs["middlewares"] if m is retries._AIOHTTP_RETRY] == [
        retries._AIOHTTP_RETRY
    ]
    assert any(t is traffic._TRACER.trace_config for t in client_kwargs["trace_configs"])
    traffic.install()  # and the meter keeps the retries when it installs after them
    assert retries._AIOHTTP_RETRY in fsspec.config.conf["http"]["client_kwargs"]["middlewares"]


def test_pystac_client_sessions_retry_unless_told_otherwise() -> None:
    retries.install()
    default = StacApiIO()
    assert isinstance(default.session.get_adapter("http://127.0.0.1/"), retries.RetryingAdapter)
    explicit = StacApiIO(max_retries=None)
    assert not isinstance(explicit.session.get_adapter("http://x/"), retries.RetryingAdapter)
    policy = retries.current_policy()
    retry = policy.urllib3_retry()
    assert retry.total == policy.attempts - 1
    assert set(retry.status_forcelist) == set(policy.statuses)
    assert "POST" in retry.allowed_methods  # item search is a read


def test_stac_requests_survive_failures_and_cut_bodies() -> None:
    retries.install()
    with ThreadedServer() as server:
        expected = [i.id for i in Client.open(server.url).search(max_items=30).items()]
    before = retries.stats()
    spec = faults.parse("rate=0.3,drop=0.2,seed=11")
    with ThreadedServer(faults=spec.middleware()) as server:
        found = [i.id for i in Client.open(server.url).search(max_items=30).items()]
    after = retries.stats()
    assert found == expected and len(found) > 3
    assert after["body"] > before["body"]  # a cut-off body was asked for again


def test_the_live_url_check_retries_a_busy_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Seed 8 fails the landing page three times, then answers: the check must not give up.
    injector = faults.FaultInjector(faults.parse("rate=0.5,seed=8,match=^/$"))
    with ThreadedServer(faults=injector.middleware) as server:
        monkeypatch.setenv("EOPF_STAC_URL", server.url)
        assert data_source.stac_root_url() == server.url
    assert injector.counts["fail"] == 3 and injector.counts["pass"] == 1
