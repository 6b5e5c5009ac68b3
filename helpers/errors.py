"""The book's own exceptions: every failure a reader can cause, said in one line.

Why this module exists: a tutorial is judged at its first failure. A mistyped
item id, an unreachable ``EOPF_STAC_URL`` or a busy port otherwise surface as
a deep traceback from aiohttp, zarr or pystac-client. Each class here carries
one actionable sentence instead, and `helpers.data_source` teaches IPython to
print these as ``ErrorName: message`` without a traceback.

Every message is a single line (newlines in inputs are folded), so it reads
the same in a notebook, a terminal and a CI log.

Where a reader's own call cannot fail clearly by itself, a helper here (or
`helpers.data_source.get_item`) makes the same call and raises the book's error:
`open_product` for a product gone from the live rolling archive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The base class and the service's own errors are defined beside the service (which imports
# nothing from the reader-facing helpers) and re-exported here with the book's other errors.
from .sample_service.errors import (
    EOPFBookError,
    PortInUseError,
    ServiceUnreachableError,
)

__all__ = [
    "CorruptCacheError",
    "EOPFBookError",
    "InterruptedDownloadError",
    "MissingCredentialsError",
    "PortInUseError",
    "ProductGoneError",
    "ServiceUnreachableError",
    "UnknownCollectionError",
    "UnknownItemError",
    "open_product",
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


class ProductGoneError(EOPFBookError):
    """A catalogue item whose Zarr product is no longer stored (the live rolling archive)."""

    def __init__(self, href: str, item_id: str | None = None, collection_id: str | None = None):
        self.href = href
        self.item_id = item_id
        what = f"The product of item '{item_id}'" if item_id else "The product"
        where = f"collections=['{collection_id}'], " if collection_id else ""
        super().__init__(
            f"{what} is no longer at {href} (HTTP 404): the live EOPF service keeps a rolling "
            f"archive and removes older products. Search for a current item, e.g. "
            f"client.search({where}bbox=..., datetime=...)."
        )


def open_product(asset: Any, **overrides: Any) -> Any:
    """``xr.open_datatree(asset.href, **kwargs)`` with the asset's kwargs, and a clear error.

    Why: the catalogue may still list an item whose product the live service has already
    removed; xarray then raises a ``FileNotFoundError`` (or zarr a ``KeyError``) from deep
    inside. This opens the product exactly as the seed does (``xarray:open_datatree_kwargs``
    of the asset, updated with ``overrides``) and, if that fails because nothing is stored at
    the product's root, raises `ProductGoneError` instead. Other failures are left as they are.
    """
    import fsspec
    import xarray as xr
    from zarr.errors import GroupNotFoundError

    kwargs = {**asset.extra_fields.get("xarray:open_datatree_kwargs", {}), **overrides}
    try:
        return xr.open_datatree(asset.href, **kwargs)
    except (FileNotFoundError, KeyError, GroupNotFoundError):
        root = asset.href.rstrip("/")
        fs, _ = fsspec.core.url_to_fs(root)
        if fs.exists(f"{root}/.zmetadata") or fs.exists(f"{root}/.zgroup"):
            raise  # the product is there: the failure is something else
        owner = getattr(asset, "owner", None)
        raise ProductGoneError(
            asset.href, getattr(owner, "id", None), getattr(owner, "collection_id", None)
        ) from None
