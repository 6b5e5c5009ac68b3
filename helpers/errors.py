"""The book's own exceptions: every failure a reader can cause, said in one line.

Why this module exists: a tutorial is judged at its first failure. A mistyped
item id, an unreachable ``EOPF_STAC_URL`` or a busy port otherwise surface as
a deep traceback from aiohttp, zarr or pystac-client. Each class here carries
one actionable sentence instead, and `helpers.data_source` teaches IPython to
print these as ``ErrorName: message`` without a traceback.

Every message is a single line (newlines in inputs are folded), so it reads
the same in a notebook, a terminal and a CI log.
"""

from __future__ import annotations

from collections.abc import Sequence


def _one_line(text: str) -> str:
    """Fold whitespace runs (including newlines) into single spaces."""
    return " ".join(str(text).split())


class EOPFBookError(Exception):
    """Base class: an error the reader can act on, described in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))

    def __str__(self) -> str:
        return _one_line(super().__str__())


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


class ServiceUnreachableError(EOPFBookError):
    """A STAC service that does not answer (or answers with an error)."""

    def __init__(self, url: str, reason: str, hint: str = "") -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"Cannot reach {url}: {reason}." + (f" {hint}" if hint else ""))


class PortInUseError(EOPFBookError):
    """The sample service's port is held by another program."""

    def __init__(self, port: int, hint: str) -> None:
        self.port = port
        super().__init__(f"Port {port} is in use by another program. {hint}")


class MissingCredentialsError(EOPFBookError):
    """Credentials a live service needs are not set."""

    def __init__(self, *variables: str, purpose: str = "") -> None:
        self.variables = variables
        names = " and ".join(variables)
        what = f" {purpose}" if purpose else ""
        super().__init__(f"Set {names} to use{what or ' this service'}.")


class CorruptCacheError(EOPFBookError):
    """A cache entry failed its integrity check and could not be regenerated."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(
            f"Corrupt cache entry {path}: {reason}. Delete it (or run `make clean`) and retry."
        )


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
