"""Find a catalogue that lists a collection the reader's catalogue may not list yet.

Why this module exists: the Zarr v3 staging collection ``sentinel-2-l2a-zarr3`` appeared on the
live service in July 2026. A reader on the live service today finds it; the book itself is
built against the sample service's catalogue of the tutorial's date (June 2025), where it does
not exist yet. `catalogue_listing` answers with the reader's own catalogue when it lists the
collection, else (sample service only) with the sample service's catalogue of today, and says
in one sentence which it used and why, for the page to print.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from . import data_source
from .errors import UnknownCollectionError
from .sample_service import settings

TIMEOUT_SECONDS = 30.0


def lists_collection(stac_url: str, collection_id: str) -> bool:
    """Whether the STAC API at ``stac_url`` answers ``/collections/<id>`` with that collection.

    A 404 is a plain no; a service that does not answer is `ServiceUnreachableError`, one line
    (`data_source.read_json`, the book's one convention for an unreachable service).
    """
    url = f"{stac_url.rstrip('/')}/collections/{collection_id}"
    document = data_source.read_json(
        url, TIMEOUT_SECONDS, what="a STAC collection", missing_ok=True
    )
    return isinstance(document, dict) and document.get("id") == collection_id


def catalogue_listing(collection_id: str, stac_url: str) -> tuple[str, str]:
    """(STAC root URL, one sentence): a catalogue that lists ``collection_id``.

    ``stac_url`` when it lists the collection; on the sample service, else, its catalogue of
    today (`settings.CURRENT_DATE`). A live catalogue without the collection is one
    `UnknownCollectionError` line.
    """
    if lists_collection(stac_url, collection_id):
        return stac_url, f"The catalogue at {stac_url} lists {collection_id}."
    if not data_source.is_sample():
        raise UnknownCollectionError(collection_id)
    today = settings.CURRENT_DATE
    parts = urlsplit(stac_url)  # the same service, below its dated root of today
    url = f"{parts.scheme}://{parts.netloc}{settings.date_prefix(today)}/"
    if not lists_collection(url, collection_id):
        raise UnknownCollectionError(collection_id)
    return url, (
        f"The sample service's catalogue of {settings.sample_date()} does not list "
        f"{collection_id} yet (the live collection appeared in July 2026), so this page "
        f"uses the sample service's catalogue of {today}, at {url}."
    )
