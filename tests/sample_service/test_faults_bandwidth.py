"""The sample service's bandwidth setting: one shared link, paced by the bytes it carries."""

from __future__ import annotations

import pytest

from helpers.sample_service import faults


def test_bandwidth_is_parsed_described_and_checked() -> None:
    spec = faults.parse("latency=0.03,bandwidth=100")
    assert (spec.latency, spec.bandwidth) == (0.03, 100.0)
    assert spec.active and faults.parse("bandwidth=5").active
    assert spec.describe() == "rate=0,latency=0.03,drop=0,seed=0,bandwidth=100"
    with pytest.raises(faults.FaultSpecError, match="bandwidth must be") as caught:
        faults.parse("bandwidth=-1")
    assert "\n" not in str(caught.value)


def test_bodies_queue_on_one_link() -> None:
    injector = faults.FaultInjector(faults.FaultSpec(bandwidth=8))  # 1 MB/s
    first = injector.transfer_delay(500_000)
    second = injector.transfer_delay(500_000)  # sent at once: waits for the first
    assert first == pytest.approx(0.5, abs=0.05)
    assert second == pytest.approx(1.0, abs=0.05)
    assert faults.FaultInjector(faults.FaultSpec()).transfer_delay(10**9) == 0.0
