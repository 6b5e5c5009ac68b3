"""Where and as whom to fetch a SAFE product from the Copernicus Data Space Ecosystem (CDSE).

Why this module exists: the SAFE chapter runs the seed's download flow (token, catalogue,
authenticated download) against whichever service the book uses. On the local sample service
that is a replica with documented sample credentials; live, it is the real CDSE with the
reader's own account from ``CDSE_USERNAME`` and ``CDSE_PASSWORD``. This module makes that one
decision, so the chapter's code is the same in both cases.

Live endpoints: the seed used CDSE's legacy STAC catalogue
(https://catalogue.dataspace.copernicus.eu/stac/, collection ``SENTINEL-2``, item ``<id>.SAFE``,
asset ``PRODUCT``), which CDSE deprecated from 17 November 2025 (CDSE documentation, "STAC
product catalogue"). Live mode therefore uses its successor, https://stac.dataspace.copernicus.eu/v1/,
where the same product is item ``<id>`` of ``sentinel-2-l2a`` with a ``Product`` asset. The
sample service replicates the legacy catalogue the seed used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import data_source
from .errors import EOPFBookError, MissingCredentialsError
from .sample_service import settings

LIVE_TOKEN_URL = (
    "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token"
)
LIVE_STAC_URL = "https://stac.dataspace.copernicus.eu/v1/"
PRODUCT_ID = settings.SAFE_PRODUCT_ID


class CredentialsRefusedError(EOPFBookError):
    """The identity service refused the user name and password (or the request)."""

    def __init__(self, url: str, status: int, reason: str, sample: bool) -> None:
        hint = (
            "The sample service accepts only the sample credentials of helpers.credentials."
            if sample
            else "Check CDSE_USERNAME and CDSE_PASSWORD (and that the account has no 2FA)."
        )
        super().__init__(f"{url} refused the token request ({status}: {reason}). {hint}")


@dataclass(frozen=True)
class CdseAccess:
    """Endpoints, names and credentials of the SAFE download flow for the current data source."""

    token_url: str
    stac_url: str
    collection_id: str
    item_id: str
    product_asset: str
    username: str
    password: str = field(repr=False)  # never printed in a notebook
    sample: bool = True

    def item_id_for(self, product_id: str) -> str:
        """The catalogue's item id of the SAFE of ``product_id`` (the legacy catalogue the
        sample replicates adds ``.SAFE``; CDSE's current one does not)."""
        return f"{product_id}.SAFE" if self.sample else product_id


def cdse_access() -> CdseAccess:
    """The SAFE flow's endpoints and credentials: sample service by default, CDSE when live.

    Live mode (``EOPF_STAC_URL`` set) needs ``CDSE_USERNAME`` and ``CDSE_PASSWORD``; without
    them this raises :class:`MissingCredentialsError`, one line naming both. In sample mode those
    variables are ignored, so a real password is never sent to the local replica.
    """
    if data_source.is_sample():
        # The service's origin: the STAC root of a catalogue date other than the tutorial's
        # is a sub-path (…/2026-11-29/), the SAFE replica and its identity service are not.
        parts = urlsplit(data_source.stac_root_url())
        root = f"{parts.scheme}://{parts.netloc}"
        return CdseAccess(
            token_url=f"{root}{settings.TOKEN_PATH}",
            stac_url=f"{root}{settings.SAFE_STAC_PREFIX}/",
            collection_id=settings.SAFE_COLLECTION_ID,
            item_id=settings.SAFE_ITEM_ID,
            product_asset="PRODUCT",
            username=settings.SAMPLE_USERNAME,
            password=settings.SAMPLE_PASSWORD,
            sample=True,
        )
    username = os.environ.get("CDSE_USERNAME", "")
    password = os.environ.get("CDSE_PASSWORD", "")
    if not username or not password:
        raise MissingCredentialsError(
            "CDSE_USERNAME",
            "CDSE_PASSWORD",
            purpose="the live CDSE download (free account: dataspace.copernicus.eu)",
        )
    return CdseAccess(
        token_url=LIVE_TOKEN_URL,
        stac_url=LIVE_STAC_URL,
        collection_id="sentinel-2-l2a",
        item_id=PRODUCT_ID,
        product_asset="Product",
        username=username,
        password=password,
        sample=False,
    )


def access_token(response, access: CdseAccess) -> str:
    """The bearer token from a token response, or a one-line error if the service refused.

    ``response`` is the ``requests.Response`` of the token request.
    """
    if not response.ok:
        try:
            reason = response.json().get("error_description") or response.reason
        except ValueError:
            reason = response.reason
        raise CredentialsRefusedError(access.token_url, response.status_code, reason, access.sample)
    return response.json()["access_token"]
