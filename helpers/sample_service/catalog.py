"""The product records of ``templates/catalogue/`` (one JSON file per collection), loaded once.

The STAC side and the Zarr side must agree on every product's id, time, footprint and
projection, so both read them here. Each record is checked against
``templates/catalogue.schema.json`` at import: a bad one stops the service with one line naming
the file, the record and the field. Adding a product is adding a record.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from pyproj import Transformer

from . import timefmt
from .errors import CatalogueError

S2_L2A = "sentinel-2-l2a"
S1_OCN = "sentinel-1-l2-ocn"
S3_LFR = "sentinel-3-olci-l2-lfr"
CATALOGUE_DIR = Path(__file__).parent / "templates" / "catalogue"
S2_TILE_SIZE_M = 109_800  # 10980 pixels of 10 m: every Sentinel-2 MGRS tile
INTERNATIONAL_DESIGNATORS: dict[str, str] = json.loads(
    (CATALOGUE_DIR.parent / "platforms.json").read_text(encoding="utf-8")
)["international_designators"]
"""COSPAR designators of the platforms (``templates/platforms.json`` names the source)."""
_DATA_HOST_VERSIONS = ("cpm_v270", "cpm_v300")  # stores on data.eodc.eu


@dataclass(frozen=True)
class ProductRecord:
    """One EOPF product: the facts both the STAC item and the Zarr store need.

    The fields are described in ``templates/catalogue/README.md``. A tile is placed by
    ``epsg`` and ``utm_origin``, a swath by ``swath_corners`` and ``swath_shape``; ``removed``
    is the date from which the live rolling archive no longer holds it (`held_on`).
    """

    id: str
    collection: str
    product_type: str
    platform: str
    start_datetime: str
    end_datetime: str
    cpm_version: str = "cpm_v256"
    epsg: int | None = None
    utm_origin: tuple[int, int] | None = None
    mgrs_tile: str | None = None
    swath_corners: tuple[tuple[float, float], ...] | None = None
    swath_shape: tuple[int, int] | None = None
    component_group: str | None = None
    relative_orbit: int | None = None
    absolute_orbit: int | None = None
    cloud_cover: float | None = None
    removed: str | None = None
    scene: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    note: str = field(default="", compare=False)

    @property
    def datetime(self) -> str:
        """Nominal acquisition time, the start of sensing (as on the live items)."""
        return self.start_datetime


# --- Loading and validating the data files ---------------------------------------------------

_SCHEMA = json.loads((CATALOGUE_DIR.parent / "catalogue.schema.json").read_text(encoding="utf-8"))
# JSON Schema counts 1.0 as an integer; a record's integers must be written as integers.
_TYPES = Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
)
_VALIDATOR = validators.extend(Draft202012Validator, type_checker=_TYPES)(
    _SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


def _explain(error: ValidationError, raw: dict[str, Any]) -> tuple[str, str]:
    """(field, problem) of a schema violation, as the record's author would fix it."""
    if error.path:
        field = str(error.path[0])
        return field, f"must be {_SCHEMA['properties'][field]['description']}, got {raw[field]!r}"
    if error.validator == "additionalProperties":
        unknown = sorted(set(raw) - set(_SCHEMA["properties"]))
        return unknown[0], "is not a field of a product record"
    if error.validator == "oneOf":
        return "utm_origin", "or swath_corners must be given (one)"
    wanted = error.validator_value  # required: names; dependentRequired: {field: names}
    if isinstance(wanted, dict):
        wanted = [name for key, names in wanted.items() if key in raw for name in names]
    return next(name for name in wanted if name not in raw), "is missing"


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _record(file: str, label: str, raw: Any, collection: str) -> ProductRecord:
    """One record checked against the schema and its times against RFC 3339."""
    if not isinstance(raw, dict):
        raise CatalogueError(file, label, "*", "is not a JSON object")
    label = str(raw.get("id", label))
    error = next(_VALIDATOR.iter_errors(raw), None)  # the schema's keywords in file order
    if error is not None:
        raise CatalogueError(file, label, *_explain(error, raw))
    for key in ("start_datetime", "end_datetime"):
        try:
            timefmt.parse(raw[key])
        except ValueError:
            raise CatalogueError(file, label, key, "is not an RFC 3339 time") from None
    values = {key: _frozen(value) for key, value in raw.items() if key != "collection"}
    return ProductRecord(collection=collection, **values)


def load_catalogue(folder: Path = CATALOGUE_DIR) -> tuple[ProductRecord, ...]:
    """Every product record of the data files in ``folder``, checked (`CatalogueError` if not)."""
    found: dict[str, tuple[str, ProductRecord]] = {}  # id: (file, record)
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise CatalogueError(path.name, "-", "-", f"is not valid JSON ({error})") from None
        if not isinstance(document, dict) or not isinstance(document.get("products"), list):
            raise CatalogueError(path.name, "-", "products", "must be a list of records")
        collection = document.get("collection")
        if not isinstance(collection, str) or not collection:
            raise CatalogueError(path.name, "-", "collection", "must name the collection")
        for index, raw in enumerate(document["products"]):
            record = _record(path.name, f"#{index + 1}", raw, collection)
            if record.id in found:
                raise CatalogueError(
                    path.name, record.id, "id", f"repeats one in {found[record.id][0]}"
                )
            found[record.id] = (path.name, record)
    return tuple(record for _, record in found.values())


PRODUCTS: tuple[ProductRecord, ...] = load_catalogue()
_BY_ID = {record.id: record for record in PRODUCTS}


def get_product(product_id: str) -> ProductRecord | None:
    """The record of ``product_id``, or None when the service has no such product."""
    return _BY_ID.get(product_id)


def products_in(collection_id: str, date: str | None = None) -> list[ProductRecord]:
    """Every product of one collection (held on ``date`` if given), newest first."""
    pool = PRODUCTS if date is None else products_on(date)
    found = [p for p in pool if p.collection == collection_id]
    return sorted(found, key=lambda p: p.start_datetime, reverse=True)


def held_on(record: ProductRecord, date: str) -> bool:
    """Whether the live archive held ``record`` on ``date``: sensed by then, not yet removed."""
    sensed = record.start_datetime[:10]
    return sensed <= date and (record.removed is None or date < record.removed)


def products_on(date: str) -> tuple[ProductRecord, ...]:
    """The products of the catalogue as it stood on ``date`` (an ISO date), in file order."""
    return tuple(record for record in PRODUCTS if held_on(record, date))


# --- Where a product lies ----------------------------------------------------------------------


@functools.cache
def lonlat_transformer(epsg: int) -> Transformer:
    """The pyproj transformer from ``epsg`` to lon/lat (always x, y order), made once."""
    return Transformer.from_crs(epsg, 4326, always_xy=True)


def utm_bounds(record: ProductRecord) -> tuple[int, int, int, int]:
    """(xmin, ymin, xmax, ymax) in metres of a Sentinel-2 tile's 10 m grid (pixel edges)."""
    if record.utm_origin is None:
        raise ValueError(f"{record.id} is not a tiled (UTM) product")
    x0, y0 = record.utm_origin
    return (x0, y0 - S2_TILE_SIZE_M, x0 + S2_TILE_SIZE_M, y0)


def footprint(record: ProductRecord) -> tuple[list[float], dict[str, Any]]:
    """(bbox, GeoJSON polygon) in lon/lat of a product, as its STAC item states them.

    Tiles: the UTM square's edges, densified and transformed with pyproj, so the polygon
    follows the tile's true (slightly curved) outline. Swaths: the four corners.
    """
    bbox, geometry = _shape(record)
    return list(bbox), json.loads(json.dumps(geometry))


@functools.lru_cache(maxsize=1024)  # the pyproj transform is the slow part of an item
def _shape(record: ProductRecord) -> tuple[tuple[float, ...], dict[str, Any]]:
    if record.utm_origin is not None:
        xmin, ymin, xmax, ymax = utm_bounds(record)
        corners = [(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax)]
        ring_xy = [  # 10 points along each edge, counter-clockwise from lower left
            (x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
            for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True)
            for i in range(10)
        ]
        to_lonlat = lonlat_transformer(record.epsg).transform
        ring = [tuple(round(v, 6) for v in to_lonlat(x, y)) for x, y in ring_xy]
    elif record.swath_corners is not None:
        ring = list(record.swath_corners)
        edges = zip(ring, ring[1:] + ring[:1], strict=True)
        if sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in edges) < 0:
            ring.reverse()  # GeoJSON exterior rings are counter-clockwise (RFC 7946)
    else:
        raise ValueError(f"{record.id} has neither a UTM tile nor swath corners")
    ring.append(ring[0])
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    bbox = (min(lons), min(lats), max(lons), max(lats))
    return bbox, {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def product_path(record: ProductRecord) -> str:
    """Path of a product's Zarr store below the service root, in the live layout of its CPM.

    cpm_v256 (objects.eodc.eu): ``<tenant>:202505-s02msil2a/22/products/cpm_v256/<id>.zarr``
    (month and lower-case product type, day of sensing, CPM version); cpm_v262 adds a region
    suffix to the bucket (``202603-s02msil2a-eu``); both live here below ``objects/``.
    cpm_v270 moved to a second host, ``https://data.eodc.eu/collections/EOPF_ZARR/products/
    cpm_v270/<TYPE>/<YYYY>/<MM>/<DD>/<id>.zarr``, here below ``data/``; the Zarr v3 copies of
    cpm_v300 (`zarr3_catalog`) lie there too.
    """
    sensed = timefmt.parse(record.start_datetime)
    cpm = record.cpm_version
    if cpm in _DATA_HOST_VERSIONS:
        day = f"{sensed:%Y/%m/%d}"
        folder = f"data/collections/EOPF_ZARR/products/{cpm}/{record.product_type}/{day}"
        return f"{folder}/{record.id}.zarr"
    suffix = "-eu" if cpm == "cpm_v262" else ""
    bucket = f"{sensed:%Y%m}-{record.product_type.lower()}{suffix}"
    return f"objects/{bucket}/{sensed:%d}/products/{cpm}/{record.id}.zarr"


def product_href(record: ProductRecord, base_url: str) -> str:
    """Absolute URL of a product's Zarr store below ``base_url`` (a dated root serves its own)."""
    return f"{base_url.rstrip('/')}/{product_path(record)}"


ARCTIC_SNOW_COVER = 3.8
"""Snow cover (%) of an Arctic tile (`is_arctic`): the scene lets snow linger on high ground
there (``scenes/s2_l2a.py``); tiles further south have none."""


def is_arctic(record: ProductRecord) -> bool:
    """Whether the product's centre lies north of 60 degrees: one rule for scene and metadata."""
    bbox, _ = footprint(record)
    return (bbox[1] + bbox[3]) / 2 > 60


def snow_cover(record: ProductRecord) -> float:
    """The snow cover (%) the store and the STAC item state (``eo:snow_cover``): Arctic only."""
    return ARCTIC_SNOW_COVER if is_arctic(record) else 0.0


def platform_code(platform: str) -> str:
    """The short platform code of product names: ``sentinel-2b`` -> ``S2B``."""
    return f"S{platform[-2]}{platform[-1].upper()}"
