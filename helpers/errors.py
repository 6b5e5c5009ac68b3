"""The book's own exceptions: every failure a reader can cause, said in one line.

Why this module exists: a tutorial is judged at its first failure. A mistyped
item id, an unreachable ``EOPF_STAC_URL`` or a busy port otherwise surface as
a deep traceback from aiohttp, zarr or pystac-client. Each class here carries
one actionable sentence instead, and `helpers.data_source` teaches IPython to
print these as ``ErrorName: message`` without a traceback.

Every message is a single line (newlines in inputs are folded), so it reads
the same in a notebook, a terminal and a CI log.

Where a reader's own call cannot fail clearly by itself, a helper
(`helpers.data_source.get_item`) makes the same call and raises the book's error.
"""

from __future__ import annotations

from collections.abc import Sequence

# The base class and the service's own errors are defined beside the service (which imports
# nothing from the reader-facing helpers) and re-exported here with the book's other errors.
from .sample_service.errors import (
    EOPFBookError,
    PortInUseError,
    ServiceUnreachableError,
)

__all__ = [
    "EOPFBookError",
    "InterruptedDownloadError",
    "MissingCredentialsError",
    "PortInUseError",
    "ServiceUnreachableError",
    "UnknownCollectionError",
    "UnknownItemError",
]


class UnknownCollectionError(EOPFBookError):
    """A collection id the STAC API does not know."""

    def __init__(self, collection_id: str, known: Sequence[str] = ()) -> None:
        self.collection_id = collection_id
        hint = (
            f" Known collections: {', '.join(known)}."
            if known
            else " List them with Client.open(url).get_collections()."
        )
        super().__init__(f"No collection '{collection_id}' in this STAC API.{hint}")


class UnknownItemError(EOPFBookError):
    """An item id that is not (or no longer) in its collection."""

    def __init__(self, collection_id: str, item_id: str) -> None:
        self.collection_id = collection_id
        self.item_id = item_id
        super().__init__(
            f"No item '{item_id}' in collection '{collection_id}' (mistyped, or gone from "
            f"the rolling archive). Search for a similar one, e.g. "
            f"client.search(collections=['{collection_id}'], bbox=..., datetime=...)."
        )


class MissingCredentialsError(EOPFBookError):
    """Credentials a live service needs are not set."""

    def __init__(self, *variables: str, purpose: str = "") -> None:
        self.variables = variables
        names = " and ".join(variables)
        what = f" {purpose}" if purpose else ""
        super().__init__(f"Set {names} to use{what or ' this service'}.")


class InterruptedDownloadError(EOPFBookError):
    """A download ended before all its bytes arrived; nothing partial is kept."""

    def __init__(self, source: str, received: int | None = None, expected: int | None = None):
        self.source = source
        self.received = received
        self.expected = expected
        got = ""
        if received is not None and expected is not None:
            got = f" after {received} of {expected} bytes"
        elif received is not None:
            got = f" after {received} bytes"
        super().__init__(
            f"The download of {source} was interrupted{got}; no partial file was kept. Retry."
        )
