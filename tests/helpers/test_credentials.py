"""The SAFE chapter's CDSE access: sample credentials on the sample service, the reader's live."""

from __future__ import annotations

import pytest
import requests

from helpers import credentials, data_source
from helpers.errors import MissingCredentialsError
from helpers.sample_service import settings

GOOD_FORM = {
    "grant_type": "password",
    "client_id": settings.CLIENT_ID,
    "username": settings.SAMPLE_USERNAME,
    "password": settings.SAMPLE_PASSWORD,
}


def test_live_mode_without_credentials_names_both_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EOPF_STAC_URL", "https://stac.core.eopf.eodc.eu/")
    monkeypatch.delenv("CDSE_USERNAME", raising=False)
    monkeypatch.setenv("CDSE_PASSWORD", "secret")
    with pytest.raises(MissingCredentialsError) as caught:
        credentials.cdse_access()
    message = str(caught.value)
    assert "CDSE_USERNAME" in message and "CDSE_PASSWORD" in message
    assert "\n" not in message


def test_live_mode_uses_the_real_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EOPF_STAC_URL", "https://stac.core.eopf.eodc.eu/")
    monkeypatch.setenv("CDSE_USERNAME", "reader@example.org")
    monkeypatch.setenv("CDSE_PASSWORD", "secret")
    access = credentials.cdse_access()
    assert access.token_url.startswith("https://identity.dataspace.copernicus.eu/")
    assert access.stac_url.startswith("https://stac.dataspace.copernicus.eu/")
    assert (access.username, access.password, access.sample) == (
        "reader@example.org",
        "secret",
        False,
    )
    assert "secret" not in repr(access)


def test_sample_mode_uses_the_sample_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EOPF_STAC_URL", raising=False)
    monkeypatch.setenv("CDSE_USERNAME", "reader@example.org")  # ignored on the sample service
    monkeypatch.setattr(data_source, "stac_root_url", lambda: "http://127.0.0.1:9/")
    access = credentials.cdse_access()
    assert access.sample
    assert access.username == settings.SAMPLE_USERNAME
    assert access.token_url == "http://127.0.0.1:9" + settings.TOKEN_PATH
    assert access.stac_url == "http://127.0.0.1:9/safe-stac/"


def test_refused_token_is_one_line(
    sample_service_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EOPF_STAC_URL", raising=False)
    monkeypatch.setattr(data_source, "stac_root_url", lambda: sample_service_url)
    access = credentials.cdse_access()
    refused = requests.post(access.token_url, data={**GOOD_FORM, "password": "x"}, timeout=30)
    with pytest.raises(credentials.CredentialsRefusedError) as caught:
        credentials.access_token(refused, access)
    assert "Invalid user credentials" in str(caught.value)
    assert "\n" not in str(caught.value)
    accepted = requests.post(access.token_url, data=GOOD_FORM, timeout=30)
    assert len(credentials.access_token(accepted, access)) > 20
