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
from typing import Any

import jsonschema

from . import catalog
from .catalog import ProductRecord
from .errors import CatalogueError

S2_L2A_ZARR3 = "sentinel-2-l2a-zarr3"
_FILE = catalog.CATALOGUE_DIR / "zarr3" / f"{S2_L2A_ZARR3}.json"
_STRINGS = ("collection", "mirrors", "listed_from", "cpm_version")
_SCHEMA = {
    "type": "object",
    "required": [*_STRINGS, "ids"],
    "properties": {
        **{key: {"type": "string"} for key in _STRINGS},
        "ids": {"type": "array", "minItems": 1, "items": {"type": "string"}},
    },
}


def load_staging(path: Path = _FILE) -> dict[str, Any]:
    """The staging collection of ``path``; `CatalogueError` names what is wrong."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(raw, _SCHEMA)
    except ValueError as error:
        raise CatalogueError(path.name, "-", "-", f"is not valid JSON ({error})") from None
    except jsonschema.ValidationError as error:
        field = str(error.path[0]) if error.path else "-"
        raise CatalogueError(path.name, "-", field, f"is wrong: {error.message}") from None
    for product_id in raw["ids"]:
        record = catalog.get_product(product_id)
        if record is None or record.collection != raw["mirrors"]:
            raise CatalogueError(
                path.name, product_id, "ids", f"is not a product of {raw['mirrors']}"
            )
    return raw


staging = functools.cache(load_staging)
"""The staging collection (loaded once)."""


@functools.cache
def _copies() -> dict[str, ProductRecord]:
    spec = staging()
    originals = [catalog.get_product(product_id) for product_id in spec["ids"]]
    changes = {"collection": spec["collection"], "cpm_version": spec["cpm_version"]}
    return {r.id: dataclasses.replace(r, **changes) for r in originals if r is not None}


def records_on(date: str) -> tuple[ProductRecord, ...]:
    """The staging items the catalogue of ``date`` lists (none before the collection existed)."""
    if date < staging()["listed_from"]:
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
    record = zarr3_record(path.rsplit("/", 1)[-1].removesuffix(".zarr"))
    found = record is not None and store_path(record) == path and record in records_on(date)
    return record if found else None
