"""Which catalogue the Zarr v3 chapter reads: the reader's when it lists the staging collection,
else (sample service) the sample service's catalogue of today; a live one without it, or one
that does not answer: one line."""

from __future__ import annotations

import pytest

from helpers import staging
from helpers.errors import ServiceUnreachableError, UnknownCollectionError
from helpers.sample_service import settings
from tests.helpers.test_data_source import closed_port

ZARR3 = "sentinel-2-l2a-zarr3"


def test_tutorial_date_falls_back_to_today(
    sample_service_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EOPF_STAC_URL", raising=False)
    assert not staging.lists_collection(sample_service_url, ZARR3)
    url, why = staging.catalogue_listing(ZARR3, sample_service_url)
    assert url == f"{sample_service_url}{settings.CURRENT_DATE}/"
    assert staging.lists_collection(url, ZARR3)
    assert settings.TUTORIAL_DATE in why and settings.CURRENT_DATE in why


def test_a_catalogue_that_lists_it_is_used_as_it_is(sample_service_url: str) -> None:
    today = f"{sample_service_url}{settings.CURRENT_DATE}/"
    url, why = staging.catalogue_listing(ZARR3, today)
    assert url == today and "lists" in why


def test_live_catalogue_without_it_is_one_line(
    sample_service_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EOPF_STAC_URL", sample_service_url)  # stands for a live API
    with pytest.raises(UnknownCollectionError) as caught:
        staging.catalogue_listing(ZARR3, sample_service_url)
    assert "\n" not in str(caught.value)


def test_an_unreachable_service_is_one_line_that_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    monkeypatch.setenv("EOPF_STAC_URL", url)  # a live API that does not answer
    for ask in (
        lambda: staging.lists_collection(url, ZARR3),
        lambda: staging.catalogue_listing(ZARR3, url),
    ):
        with pytest.raises(ServiceUnreachableError) as caught:
            ask()
        message = str(caught.value)
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
        assert "\n" not in message
        assert message.startswith(f"Cannot reach {url}collections/{ZARR3}: connection refused.")
        assert "unset EOPF_STAC_URL to use the local sample service" in message
