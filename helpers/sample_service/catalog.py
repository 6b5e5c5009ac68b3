"""The records behind the sample service: which products exist and where they lie.

Why this module exists: the STAC side (items, search) and the Zarr side (`.zmetadata`,
coordinates, synthetic scenes) must agree on every product's id, time, footprint and
projection. Those facts are data, one JSON file per collection in ``templates/catalogue/``
(sources in its README); this module loads them once, checks every record against
`ProductRecord`'s schema, and answers questions about them. Adding a product is adding a
record; a record that breaks the schema stops the service at start-up with one line naming
the file, the record and the field.

The four products used by the tutorial carry the facts published for the real products; the
others are plausible neighbours (other dates and tiles) so that a search by area and time
returns several items, as it does on the live service.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import Transformer

from . import timefmt
from .errors import CatalogueError

S2_L2A = "sentinel-2-l2a"
S1_OCN = "sentinel-1-l2-ocn"
S3_LFR = "sentinel-3-olci-l2-lfr"
CATALOGUE_DIR = Path(__file__).parent / "templates" / "catalogue"
S2_TILE_SIZE_M = 109_800  # 10980 pixels of 10 m: every Sentinel-2 MGRS tile
CPM_VERSIONS = ("cpm_v256", "cpm_v262", "cpm_v270")
"""The CPM versions whose structure the service replicates (`cpm_versions` says how)."""
_DATA_HOST_VERSIONS = ("cpm_v270", "cpm_v300")  # stores on data.eodc.eu

INTERNATIONAL_DESIGNATORS = {
    "sentinel-1a": "2014-016A",
    "sentinel-2a": "2015-028A",
    "sentinel-2b": "2017-013A",
    "sentinel-2c": "2024-157A",
    "sentinel-3a": "2016-011A",
    "sentinel-3b": "2018-039A",
}
"""COSPAR designators of the platforms (NSSDC catalogue), for STAC, Zarr and SAFE metadata."""


@dataclass(frozen=True)
class ProductRecord:
    """One EOPF product: the facts both the STAC item and the Zarr store need.

    Sentinel-2 products are placed by their UTM tile (``epsg`` plus the upper-left corner
    ``utm_origin`` of the 10980 x 10980 grid at 10 m). Swath products (Sentinel-1, Sentinel-3)
    are placed by the four lon/lat corners of the swath (``swath_corners``:
    first-line-first-pixel, first-line-last-pixel, last-line-last-pixel,
    last-line-first-pixel; or a real footprint's whole outline, for the product types built
    from data alone) and the ``swath_shape`` (lines, pixels) of their measurement grid.
    ``scene`` holds parameters of the synthetic scene (e.g. ``swath_west_edge``, a UTM point
    on the western edge of the orbit's swath); ``note`` says where the facts come from.
    ``cpm_version`` (the store path's ``cpm_vNNN``) decides the product's structure and item
    conventions (`cpm_versions`); ``removed`` is the ISO date from which the live rolling
    archive no longer holds the product (absent: still held), so the catalogue of a date lists
    the products sensed by then and not yet removed (`products_on`).
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

_FIELDS = {f.name: f for f in dataclasses.fields(ProductRecord)}
_HINTS = typing.get_type_hints(ProductRecord)


def _conforms(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's type (tuples as arrays, ints where floats go)."""
    if hint is Any:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if origin is tuple:
        if not isinstance(value, list):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(map(_conforms, value, args))
    if origin is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, hint) and not (hint is int and isinstance(value, bool))


def _is_iso_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _check_record(name: str, index: int, raw: Any, collection: str) -> ProductRecord:
    label = str(raw.get("id", f"#{index + 1}")) if isinstance(raw, dict) else f"#{index + 1}"
    if not isinstance(raw, dict):
        raise CatalogueError(name, label, "*", "is not a JSON object")
    unknown = sorted(set(raw) - set(_FIELDS) - {"collection"})
    if unknown:
        raise CatalogueError(name, label, unknown[0], "is not a field of a product record")
    for key, spec in _FIELDS.items():
        required = (
            spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        )
        if key == "collection":
            continue
        if key not in raw:
            if required:
                raise CatalogueError(name, label, key, "is missing")
            continue
        if not _conforms(raw[key], _HINTS[key]):
            raise CatalogueError(name, label, key, f"must be {_HINTS[key]}, got {raw[key]!r}")
    for key in ("start_datetime", "end_datetime"):
        try:
            timefmt.parse(raw[key])
        except ValueError:
            raise CatalogueError(name, label, key, "is not an RFC 3339 time") from None
    if raw.get("removed") is not None and not _is_iso_date(raw["removed"]):
        raise CatalogueError(name, label, "removed", "is not an ISO date (YYYY-MM-DD)")
    if raw.get("cpm_version", "cpm_v256") not in CPM_VERSIONS:
        raise CatalogueError(name, label, "cpm_version", f"must be one of {CPM_VERSIONS}")
    tiled, swath = "utm_origin" in raw, "swath_corners" in raw
    if tiled == swath:
        raise CatalogueError(name, label, "utm_origin", "or swath_corners must be given (one)")
    if tiled and "epsg" not in raw:
        raise CatalogueError(name, label, "epsg", "is missing (a tiled product needs it)")
    if swath and "swath_shape" not in raw:
        raise CatalogueError(name, label, "swath_shape", "is missing (a swath needs it)")
    values = {k: _frozen(v) for k, v in raw.items() if k != "collection"}
    return ProductRecord(collection=collection, **values)


def load_catalogue(folder: Path = CATALOGUE_DIR) -> tuple[ProductRecord, ...]:
    """Every product record of the data files in ``folder``, checked (`CatalogueError` if not)."""
    records: list[ProductRecord] = []
    seen: dict[str, str] = {}
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
            record = _check_record(path.name, index, raw, collection)
            if record.id in seen:
                raise CatalogueError(
                    path.name, record.id, "id", f"repeats one in {seen[record.id]}"
                )
            seen[record.id] = path.name
            records.append(record)
    return tuple(records)


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
    bbox, geometry = _footprint(record.id) if _BY_ID.get(record.id) is record else _shape(record)
    return list(bbox), json.loads(json.dumps(geometry))


@functools.cache
def _footprint(product_id: str) -> tuple[tuple[float, ...], dict[str, Any]]:
    """`footprint` memoised by id (the pyproj transform is the slow part of an item)."""
    return _shape(_BY_ID[product_id])


def _shape(record: ProductRecord) -> tuple[tuple[float, ...], dict[str, Any]]:
    if record.utm_origin is not None:
        xmin, ymin, xmax, ymax = utm_bounds(record)
        to_lonlat = lonlat_transformer(record.epsg)
        steps = 10
        ring_xy: list[tuple[float, float]] = []
        for i in range(steps):  # along each edge, counter-clockwise from lower left
            ring_xy.append((xmin + (xmax - xmin) * i / steps, ymin))
        for i in range(steps):
            ring_xy.append((xmax, ymin + (ymax - ymin) * i / steps))
        for i in range(steps):
            ring_xy.append((xmax - (xmax - xmin) * i / steps, ymax))
        for i in range(steps):
            ring_xy.append((xmin, ymax - (ymax - ymin) * i / steps))
        ring = [tuple(round(v, 6) for v in to_lonlat.transform(x, y)) for x, y in ring_xy]
    elif record.swath_corners is not None:
        ring = [tuple(corner) for corner in record.swath_corners]
        # GeoJSON exterior rings are counter-clockwise (RFC 7946).
        area2 = sum(
            x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)
        )
        if area2 < 0:
            ring.reverse()
    else:
        raise ValueError(f"{record.id} has neither a UTM tile nor swath corners")
    ring.append(ring[0])
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
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
    """Absolute URL of a product's Zarr store on the service at ``base_url``.

    A dated STAC root (``…/2026-11-29``) links to stores below it, where only the products
    its catalogue holds are served.
    """
    return f"{base_url.rstrip('/')}/{product_path(record)}"


ARCTIC_SNOW_COVER = 3.8
"""Snow cover (%) of an Arctic tile (`is_arctic`): the scene lets snow linger on high ground
there (``scenes/s2_l2a.py``); tiles further south have none."""


def is_arctic(record: ProductRecord) -> bool:
    """Whether the product's centre lies north of 60 degrees.

    One rule for the scene (snow on high ground, sparser vegetation) and for the snow cover
    the store and the item state, so the pixels and the metadata agree.
    """
    bbox, _ = footprint(record)
    return (bbox[1] + bbox[3]) / 2 > 60


def snow_cover(record: ProductRecord) -> float:
    """The snow cover (%) a Sentinel-2 product and its STAC item state (``eo:snow_cover``).

    One rule for the store's ``stac_discovery`` and the item, so the two agree: the synthetic
    scenes put snow on the Arctic tiles only.
    """
    return ARCTIC_SNOW_COVER if is_arctic(record) else 0.0


def platform_code(platform: str) -> str:
    """The short platform code of product names: ``sentinel-2b`` -> ``S2B``."""
    return f"S{platform[-2]}{platform[-1].upper()}"
