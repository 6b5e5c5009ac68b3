"""The Zarr v3 staging collection ``sentinel-2-l2a-zarr3``: which products have a v3 copy.

Since July 2026 the live service lists a staging collection whose items carry the ids of
``sentinel-2-l2a`` items but point at Zarr v3 stores made by CPM 3.0. An id is then not unique
across the catalogue, so a staging item is no record of its own: ``templates/catalogue/zarr3/``
names the products that have a copy, and a copy is that product's record with the staging
collection and CPM version (same record, same scene, same pixels).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

from . import catalog
from .catalog import ProductRecord
from .errors import CatalogueError

S2_L2A_ZARR3 = "sentinel-2-l2a-zarr3"
_FILE = catalog.CATALOGUE_DIR / "zarr3" / f"{S2_L2A_ZARR3}.json"


@dataclasses.dataclass(frozen=True)
class StagingCollection:
    """The staging collection's data file, checked."""

    collection: str
    mirrors: str
    listed_from: str
    cpm_version: str
    ids: tuple[str, ...]


def load_staging(path: Path = _FILE) -> StagingCollection:
    """The staging collection of ``path``; `CatalogueError` names what is wrong."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise CatalogueError(path.name, "-", "-", f"is not valid JSON ({error})") from None
    strings = ("collection", "mirrors", "listed_from", "cpm_version")
    for key in strings:
        if not isinstance(raw.get(key), str):
            raise CatalogueError(path.name, "-", key, "must be a string")
    ids = raw.get("ids")
    if not isinstance(ids, list) or not ids:
        raise CatalogueError(path.name, "-", "ids", "must be a non-empty list of product ids")
    for product_id in ids:
        record = catalog.get_product(product_id) if isinstance(product_id, str) else None
        if record is None or record.collection != raw["mirrors"]:
            raise CatalogueError(
                path.name, str(product_id), "ids", f"is not a product of {raw['mirrors']}"
            )
    return StagingCollection(**{key: raw[key] for key in strings}, ids=tuple(ids))


staging = functools.cache(load_staging)
"""The staging collection (loaded once)."""


@functools.cache
def _copies() -> dict[str, ProductRecord]:
    spec = staging()
    originals = [catalog.get_product(product_id) for product_id in spec.ids]  # all found
    return {
        r.id: dataclasses.replace(r, collection=spec.collection, cpm_version=spec.cpm_version)
        for r in originals
        if r is not None
    }


def records_on(date: str) -> tuple[ProductRecord, ...]:
    """The staging items the catalogue of ``date`` lists (none before the collection existed)."""
    if date < staging().listed_from:
        return ()
    return tuple(r for r in _copies().values() if catalog.held_on(r, date))


def zarr3_record(product_id: str) -> ProductRecord | None:
    """The v3 copy of ``product_id``, or None when it has none."""
    return _copies().get(product_id)


def store_path(record: ProductRecord) -> str:
    """Path of the v3 store below the service root: data.eodc.eu's layout, as for cpm_v270
    (``data/collections/EOPF_ZARR/products/cpm_v300/S02MSIL2A/<YYYY>/<MM>/<DD>/<id>.zarr``)."""
    return catalog.product_path(record)


def record_at(path: str, date: str) -> ProductRecord | None:
    """The v3 copy whose store lies at ``path`` on the catalogue of ``date``, or None."""
    product_id = path.rsplit("/", 1)[-1].removesuffix(".zarr")
    record = zarr3_record(product_id)
    if record is None or store_path(record) != path or record not in records_on(date):
        return None
    return record
