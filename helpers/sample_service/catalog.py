"""The records behind the sample service: which products exist and where they lie.

Why this module exists: the STAC side (items, search) and the Zarr side
(`.zmetadata`, coordinates, synthetic scenes) must agree on every product's id,
time, footprint and projection. Keeping those facts in one place, as plain data,
means the two halves cannot drift apart.

The four products used by the tutorial carry the facts published for the real
products (see `templates/README.md` for sources); the others are plausible
neighbours (other dates and tiles) so that a search by area and time returns
several items, as it does on the live service.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

S2_L2A = "sentinel-2-l2a"
S1_OCN = "sentinel-1-l2-ocn"
S3_LFR = "sentinel-3-olci-l2-lfr"


@dataclass(frozen=True)
class ProductRecord:
    """One EOPF product: the facts both the STAC item and the Zarr store need.

    Sentinel-2 products are placed by their UTM tile (``epsg`` plus the
    upper-left corner ``utm_origin`` of the 10980 x 10980 grid at 10 m).
    Swath products (Sentinel-1 OCN, Sentinel-3 LFR) are placed by the four
    lon/lat corners of the swath (``swath_corners``: first-line-first-pixel,
    first-line-last-pixel, last-line-last-pixel, last-line-first-pixel) and
    the ``swath_shape`` (lines, pixels) of their measurement grid.
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
    tutorial: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def datetime(self) -> str:
        """Nominal acquisition time, the start of sensing (as on the live items)."""
        return self.start_datetime


PRODUCTS: tuple[ProductRecord, ...] = (
    # --- Sentinel-2 L2A ------------------------------------------------------
    ProductRecord(
        id="S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252",
        collection=S2_L2A,
        product_type="S02MSIL2A",
        platform="sentinel-2b",
        start_datetime="2025-05-22T12:50:39.024000Z",
        end_datetime="2025-05-22T12:50:39.024000Z",
        epsg=32626,
        utm_origin=(399960, 4600020),
        mgrs_tile="26TML",
        relative_orbit=95,
        absolute_orbit=42790,
        cloud_cover=71.4,
        tutorial=True,
    ),
    ProductRecord(
        id="S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416",
        collection=S2_L2A,
        product_type="S02MSIL2A",
        platform="sentinel-2a",
        start_datetime="2025-06-05T10:47:01.024000Z",
        end_datetime="2025-06-05T10:47:01.024000Z",
        epsg=32635,
        utm_origin=(399960, 7900020),
        mgrs_tile="35WMU",
        relative_orbit=51,
        absolute_orbit=51971,
        cloud_cover=18.2,
        tutorial=True,
    ),
    ProductRecord(
        id="S2A_MSIL2A_20250527T125041_N0511_R095_T26TML_20250527T150311",
        collection=S2_L2A,
        product_type="S02MSIL2A",
        platform="sentinel-2a",
        start_datetime="2025-05-27T12:50:41.024000Z",
        end_datetime="2025-05-27T12:50:41.024000Z",
        epsg=32626,
        utm_origin=(399960, 4600020),
        mgrs_tile="26TML",
        relative_orbit=95,
        absolute_orbit=51850,
        cloud_cover=42.7,
    ),
    ProductRecord(
        id="S2A_MSIL2A_20250517T125041_N0511_R095_T26TML_20250517T145821",
        collection=S2_L2A,
        product_type="S02MSIL2A",
        platform="sentinel-2a",
        start_datetime="2025-05-17T12:50:41.024000Z",
        end_datetime="2025-05-17T12:50:41.024000Z",
        epsg=32626,
        utm_origin=(399960, 4600020),
        mgrs_tile="26TML",
        relative_orbit=95,
        absolute_orbit=51707,
        cloud_cover=88.9,
    ),
    ProductRecord(
        id="S2B_MSIL2A_20250522T125039_N0511_R095_T26TNL_20250522T133252",
        collection=S2_L2A,
        product_type="S02MSIL2A",
        platform="sentinel-2b",
        start_datetime="2025-05-22T12:50:39.024000Z",
        end_datetime="2025-05-22T12:50:39.024000Z",
        epsg=32626,
        utm_origin=(499980, 4600020),
        mgrs_tile="26TNL",
        relative_orbit=95,
        absolute_orbit=42790,
        cloud_cover=64.0,
    ),
    ProductRecord(
        id="S2B_MSIL2A_20250531T105619_N0511_R051_T35WMU_20250531T121430",
        collection=S2_L2A,
        product_type="S02MSIL2A",
        platform="sentinel-2b",
        start_datetime="2025-05-31T10:56:19.024000Z",
        end_datetime="2025-05-31T10:56:19.024000Z",
        epsg=32635,
        utm_origin=(399960, 7900020),
        mgrs_tile="35WMU",
        relative_orbit=51,
        absolute_orbit=42917,
        cloud_cover=55.3,
    ),
    ProductRecord(
        id="S2B_MSIL2A_20250610T105619_N0511_R051_T35WMU_20250610T120811",
        collection=S2_L2A,
        product_type="S02MSIL2A",
        platform="sentinel-2b",
        start_datetime="2025-06-10T10:56:19.024000Z",
        end_datetime="2025-06-10T10:56:19.024000Z",
        epsg=32635,
        utm_origin=(399960, 7900020),
        mgrs_tile="35WMU",
        relative_orbit=51,
        absolute_orbit=43060,
        cloud_cover=9.6,
    ),
    ProductRecord(
        id="S2A_MSIL2A_20250605T104701_N0511_R051_T35WNU_20250605T125416",
        collection=S2_L2A,
        product_type="S02MSIL2A",
        platform="sentinel-2a",
        start_datetime="2025-06-05T10:47:01.024000Z",
        end_datetime="2025-06-05T10:47:01.024000Z",
        epsg=32635,
        utm_origin=(499980, 7900020),
        mgrs_tile="35WNU",
        relative_orbit=51,
        absolute_orbit=51971,
        cloud_cover=23.5,
    ),
    # --- Sentinel-1 L2 OCN ---------------------------------------------------
    ProductRecord(
        id="S1A_IW_OCN__2SDV_20250604T193923_20250604T193948_059501_0762FA_C971",
        collection=S1_OCN,
        product_type="S01SIWOCN",
        platform="sentinel-1a",
        start_datetime="2025-06-04T19:39:23.099186Z",
        end_datetime="2025-06-04T19:39:48.098132Z",
        # Corners spanning the published item bbox [-25.77445, 30.25712,
        # -22.82115, 32.16941]; an ascending pass tilts the swath.
        swath_corners=(
            (-25.3721, 30.25712),
            (-22.82115, 30.6433),
            (-23.2089, 32.16941),
            (-25.77445, 31.7821),
        ),
        swath_shape=(167, 255),
        component_group="S01SIWOCN_20250604T193923_0025_A340_C971_0762FA_VV",
        relative_orbit=45,
        absolute_orbit=59501,
        tutorial=True,
    ),
    ProductRecord(
        id="S1A_IW_OCN__2SDV_20250604T193948_20250604T194013_059501_0762FA_5B0E",
        collection=S1_OCN,
        product_type="S01SIWOCN",
        platform="sentinel-1a",
        start_datetime="2025-06-04T19:39:48.099186Z",
        end_datetime="2025-06-04T19:40:13.098132Z",
        swath_corners=(
            (-25.7860, 31.7612),
            (-23.2205, 32.1480),
            (-23.6201, 33.6683),
            (-26.2024, 33.2811),
        ),
        swath_shape=(167, 255),
        component_group="S01SIWOCN_20250604T193948_0025_A340_5B0E_0762FA_VV",
        relative_orbit=45,
        absolute_orbit=59501,
    ),
    ProductRecord(
        id="S1A_IW_OCN__2SDV_20250523T193922_20250523T193947_059326_075D1B_3A2F",
        collection=S1_OCN,
        product_type="S01SIWOCN",
        platform="sentinel-1a",
        start_datetime="2025-05-23T19:39:22.512004Z",
        end_datetime="2025-05-23T19:39:47.510871Z",
        swath_corners=(
            (-25.3698, 30.25401),
            (-22.81902, 30.6401),
            (-23.2067, 32.16633),
            (-25.77219, 31.7790),
        ),
        swath_shape=(167, 255),
        component_group="S01SIWOCN_20250523T193922_0025_A339_3A2F_075D1B_VV",
        relative_orbit=45,
        absolute_orbit=59326,
    ),
    # --- Sentinel-3 OLCI L2 LFR ----------------------------------------------
    ProductRecord(
        id="S3A_OL_2_LFR____20250605T102430_20250605T102730_20250605T122455_0179_126_336_2160_PS1_O_NR_003",
        collection=S3_LFR,
        product_type="S03OLCLFR",
        platform="sentinel-3a",
        start_datetime="2025-06-05T10:24:30.251369Z",
        end_datetime="2025-06-05T10:27:30.251369Z",
        # Corners within the published item bbox [-10.8633, 39.5444, 9.13909,
        # 52.4536]; the first pixel matches the published lat/lon (52.45365 N,
        # 9.244943 W), a descending pass.
        swath_corners=(
            (-9.244943, 52.45365),
            (9.13909, 50.6301),
            (4.9803, 39.5444),
            (-10.8633, 41.2012),
        ),
        swath_shape=(4091, 4865),
        relative_orbit=336,
        absolute_orbit=48260,
        tutorial=True,
    ),
    ProductRecord(
        id="S3A_OL_2_LFR____20250604T104941_20250604T105241_20250604T125012_0179_126_322_2160_PS1_O_NR_003",
        collection=S3_LFR,
        product_type="S03OLCLFR",
        platform="sentinel-3a",
        start_datetime="2025-06-04T10:49:41.118207Z",
        end_datetime="2025-06-04T10:52:41.118207Z",
        swath_corners=(
            (-15.3012, 52.4410),
            (3.0716, 50.6188),
            (-1.0912, 39.5331),
            (-16.9184, 41.1907),
        ),
        swath_shape=(4091, 4865),
        relative_orbit=322,
        absolute_orbit=48246,
    ),
    ProductRecord(
        id="S3B_OL_2_LFR____20250605T095751_20250605T100051_20250605T120301_0179_107_179_2160_PS2_O_NR_003",
        collection=S3_LFR,
        product_type="S03OLCLFR",
        platform="sentinel-3b",
        start_datetime="2025-06-05T09:57:51.604112Z",
        end_datetime="2025-06-05T10:00:51.604112Z",
        swath_corners=(
            (-2.6517, 52.4472),
            (15.7311, 50.6249),
            (11.5720, 39.5390),
            (-4.2694, 41.1955),
        ),
        swath_shape=(4091, 4865),
        relative_orbit=179,
        absolute_orbit=37311,
    ),
)

_BY_ID = {record.id: record for record in PRODUCTS}


def get_product(product_id: str) -> ProductRecord | None:
    """The record of ``product_id``, or None when the service has no such product."""
    return _BY_ID.get(product_id)


def products_in(collection_id: str) -> list[ProductRecord]:
    """Every product of one collection, newest first (the live API's default order)."""
    found = [p for p in PRODUCTS if p.collection == collection_id]
    return sorted(found, key=lambda p: p.start_datetime, reverse=True)


S2_TILE_SIZE_M = 109_800  # 10980 pixels of 10 m: every Sentinel-2 MGRS tile


def utm_bounds(record: ProductRecord) -> tuple[int, int, int, int]:
    """(xmin, ymin, xmax, ymax) in metres of a Sentinel-2 tile's 10 m grid (pixel edges)."""
    if record.utm_origin is None:
        raise ValueError(f"{record.id} is not a tiled (UTM) product")
    x0, y0 = record.utm_origin
    return (x0, y0 - S2_TILE_SIZE_M, x0 + S2_TILE_SIZE_M, y0)


def footprint(record: ProductRecord) -> tuple[list[float], dict[str, Any]]:
    """(bbox, GeoJSON polygon) in lon/lat of a product, as its STAC item states them.

    Tiles: the UTM square's edges, densified and transformed with pyproj, so the
    polygon follows the tile's true (slightly curved) outline. Swaths: the four
    corners.
    """
    if record.utm_origin is not None:
        from pyproj import Transformer

        xmin, ymin, xmax, ymax = utm_bounds(record)
        to_lonlat = Transformer.from_crs(record.epsg, 4326, always_xy=True)
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
    bbox = [min(lons), min(lats), max(lons), max(lats)]
    geometry = {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}
    return bbox, geometry


# --- Collections and items as the STAC API states them ------------------------
#
# Why here: an item's hrefs, footprint and time must match the Zarr store the
# same record describes, so the STAC view of a record is built next to it.
# Field values that are the same for every item (asset titles, roles, band
# tables, collection texts) are data files in templates/stac/ (sources in its
# README.md); what varies per product is derived from the record below.

STAC_VERSION = "1.1.0"
_STAC_TEMPLATES = Path(__file__).parent / "templates" / "stac"

# COSPAR designators of the platforms that appear in PRODUCTS.
_INTERNATIONAL_DESIGNATORS = {
    "sentinel-1a": "2014-016A",
    "sentinel-2a": "2015-028A",
    "sentinel-2b": "2017-013A",
    "sentinel-3a": "2016-011A",
    "sentinel-3b": "2018-039A",
}
_EXT = "https://stac-extensions.github.io"
_EOPF_EXTENSION = "https://cs-si.github.io/eopf-stac-extension/v1.2.0/schema.json"
_ITEM_EXTENSIONS = {
    # As on the May-2025 sentinel-2-l2a items, without the view extension:
    # sun angles are not modelled here, so the item does not claim them.
    S2_L2A: [
        f"{_EXT}/timestamps/v1.1.0/schema.json",
        f"{_EXT}/eo/v1.1.0/schema.json",
        f"{_EXT}/sat/v1.0.0/schema.json",
        f"{_EXT}/projection/v2.0.0/schema.json",
        f"{_EXT}/mgrs/v1.0.0/schema.json",
        f"{_EXT}/grid/v1.1.0/schema.json",
        f"{_EXT}/processing/v1.2.0/schema.json",
        f"{_EXT}/product/v0.1.0/schema.json",
        f"{_EXT}/scientific/v1.0.0/schema.json",
        _EOPF_EXTENSION,
        f"{_EXT}/raster/v1.1.0/schema.json",
    ],
    S1_OCN: [
        f"{_EXT}/timestamps/v1.1.0/schema.json",
        f"{_EXT}/sat/v1.0.0/schema.json",
        f"{_EXT}/processing/v1.2.0/schema.json",
        f"{_EXT}/product/v0.1.0/schema.json",
        f"{_EXT}/sar/v1.0.0/schema.json",
        _EOPF_EXTENSION,
    ],
    S3_LFR: [
        f"{_EXT}/timestamps/v1.1.0/schema.json",
        f"{_EXT}/sat/v1.0.0/schema.json",
        f"{_EXT}/eo/v2.0.0/schema.json",
        f"{_EXT}/processing/v1.2.0/schema.json",
        f"{_EXT}/product/v0.1.0/schema.json",
        f"{_EXT}/version/v1.2.0/schema.json",
    ],
}


@functools.cache
def _stac_template(name: str) -> dict[str, Any]:
    """A data file of templates/stac/, parsed once (callers deep-copy what they change)."""
    with (_STAC_TEMPLATES / name).open(encoding="utf-8") as f:
        return json.load(f)


def collection_ids() -> list[str]:
    """Every collection of the API, in the order of the live landing page's child links."""
    return [c["id"] for c in _stac_template("collections.json")["collections"]]


def landing_metadata() -> dict[str, Any]:
    """id, title, description, stac_version and conformsTo of the live landing page."""
    return copy.deepcopy(_stac_template("collections.json")["landing"])


def product_path(record: ProductRecord) -> str:
    """Path of a product's Zarr store below the service root, in the live object-store layout.

    Live: ``<tenant>:202505-s02msil2a/22/products/cpm_v256/<id>.zarr`` (month and
    lower-case product type, then day of sensing, then CPM version); here the
    same below ``objects/``.
    """
    sensed = _parse_time(record.start_datetime)
    bucket = f"{sensed:%Y%m}-{record.product_type.lower()}"
    return f"objects/{bucket}/{sensed:%d}/products/{record.cpm_version}/{record.id}.zarr"


def product_href(record: ProductRecord, base_url: str) -> str:
    """Absolute URL of a product's Zarr store on the service at ``base_url``."""
    return f"{base_url.rstrip('/')}/{product_path(record)}"


def build_collection(collection_id: str, base_url: str) -> dict[str, Any] | None:
    """The STAC Collection ``collection_id`` with links on ``base_url``, or None if unknown."""
    data = _stac_template("collections.json")
    found = [c for c in data["collections"] if c["id"] == collection_id]
    if not found:
        return None
    spec = copy.deepcopy(found[0])
    root = base_url.rstrip("/")
    self_href = f"{root}/collections/{collection_id}"
    links = [
        {"rel": "items", "type": "application/geo+json", "href": f"{self_href}/items"},
        {"rel": "parent", "type": "application/json", "href": f"{root}/"},
        {"rel": "root", "type": "application/json", "href": f"{root}/"},
        {"rel": "self", "type": "application/json", "href": self_href},
        dict(data["license"]),
    ]
    if "sci:doi" in spec:
        links.append({"rel": "cite-as", "href": f"https://doi.org/{spec['sci:doi']}"})
    links.append(
        {
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "type": "application/schema+json",
            "title": "Queryables",
            "href": f"{self_href}/queryables",
        }
    )
    return {
        "id": collection_id,
        "type": "Collection",
        "links": links,
        "title": spec["title"],
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[spec["temporal_start"], None]]},
        },
        "license": "proprietary",
        "keywords": spec["keywords"],
        "providers": _providers(spec["mission"]),
        "summaries": spec["summaries"],
        "description": spec["description"],
        "stac_version": STAC_VERSION,
        "stac_extensions": spec["stac_extensions"],
    }


def build_item(record: ProductRecord, base_url: str) -> dict[str, Any]:
    """The STAC Item of ``record`` as the live API serves it, with hrefs on ``base_url``."""
    root = base_url.rstrip("/")
    bbox, geometry = _footprint(record.id)
    collection_href = f"{root}/collections/{record.collection}"
    links = [
        {"rel": "collection", "type": "application/json", "href": collection_href},
        {"rel": "parent", "type": "application/json", "href": collection_href},
        {"rel": "root", "type": "application/json", "href": f"{root}/"},
        {
            "rel": "self",
            "type": "application/geo+json",
            "href": f"{collection_href}/items/{record.id}",
        },
    ]
    if record.collection == S2_L2A:
        links.append({"rel": "cite-as", "href": "https://doi.org/10.5270/S2_-znk9xsj"})
    links.append(dict(_stac_template("collections.json")["license"]))
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": list(_ITEM_EXTENSIONS[record.collection]),
        "id": record.id,
        "collection": record.collection,
        "bbox": list(bbox),
        "geometry": copy.deepcopy(geometry),
        "properties": _item_properties(record, bbox),
        "links": links,
        "assets": _item_assets(record, product_href(record, base_url)),
    }


def _parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 time of the records (``...Z``) as an aware datetime."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _format_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.cache
def _footprint(product_id: str) -> tuple[tuple[float, ...], dict[str, Any]]:
    """`footprint` memoised by id (the pyproj transform is the slow part of an item)."""
    record = get_product(product_id)
    if record is None:
        raise KeyError(product_id)
    bbox, geometry = footprint(record)
    return tuple(bbox), geometry


def _providers(mission: str) -> list[dict[str, Any]]:
    providers = copy.deepcopy(_stac_template("collections.json")["providers"])
    for provider in providers:
        provider["url"] = provider["url"].format(mission=mission)
    return providers


def _created(record: ProductRecord) -> str:
    """When the product was generated, as the live items' created/updated/published state it.

    Sentinel-2 and Sentinel-3 names carry it (the last timestamp of an S2 name,
    the third of an S3 name). Sentinel-1 OCN names do not, and its real value
    is not published; the service states sensing end plus two hours, a typical
    near-real-time delay.
    """
    stamps = re.findall(r"\d{8}T\d{6}", record.id)
    if record.collection == S2_L2A:
        stamp = stamps[-1]
    elif record.collection == S3_LFR:
        stamp = stamps[2]
    else:
        return _format_time(_parse_time(record.end_datetime) + datetime.timedelta(hours=2))
    return _format_time(datetime.datetime.strptime(stamp + "Z", "%Y%m%dT%H%M%S%z"))


def _item_properties(record: ProductRecord, bbox: tuple[float, ...]) -> dict[str, Any]:
    created = _created(record)
    common: dict[str, Any] = {
        "created": created,
        "updated": created,
        "published": created,
        "datetime": record.datetime,
        "start_datetime": record.start_datetime,
        "end_datetime": record.end_datetime,
        "platform": record.platform,
        "product:type": record.product_type,
        "sat:relative_orbit": record.relative_orbit,
        "sat:absolute_orbit": record.absolute_orbit,
        "sat:platform_international_designator": _INTERNATIONAL_DESIGNATORS[record.platform],
        "product:timeliness": "PT3H",
    }
    if record.collection == S2_L2A:
        return {**common, **_s2_properties(record, bbox)}
    if record.collection == S1_OCN:
        return {
            **common,
            "mission": "Sentinel-1",
            "providers": _providers("sentinel-1"),
            "constellation": "sentinel-1",
            "instruments": ["sar"],
            "sat:orbit_state": "ascending",
            "processing:level": "L2",
            "processing:software": {"EOPF-CPM": _cpm_release(record)},
            "product:timeliness_category": "NRT",
            "sar:instrument_mode": "IW",
            "sar:frequency_band": "C",
            "sar:center_frequency": 5.405,
            "sar:polarizations": ["VV", "VH"],
            "sar:product_type": "OCN",
            "eopf:instrument_mode": "IW",
        }
    return {
        **common,
        "gsd": 300.0,
        "mission": "Sentinel-3",
        "providers": _providers("sentinel-3"),
        "deprecated": False,
        "instruments": ["olci"],
        "constellation": "sentinel-3",
        "sat:orbit_state": "descending",
        "processing:level": "L2",
        "processing:lineage": "systematic",
        "processing:software": {"EOPF-CPM": _cpm_release(record)},
        "product:timeliness_category": record.id.split("_")[-2],
    }


def _cpm_release(record: ProductRecord) -> str:
    """The CPM release (e.g. 2.5.6) named by the store's ``cpm_v256`` path segment."""
    digits = record.cpm_version.removeprefix("cpm_v")
    return ".".join(digits)


def _s2_properties(record: ProductRecord, bbox: tuple[float, ...]) -> dict[str, Any]:
    from pyproj import Transformer

    assert record.mgrs_tile is not None and record.epsg is not None
    tile = record.mgrs_tile
    xmin, ymin, xmax, ymax = utm_bounds(record)
    to_lonlat = Transformer.from_crs(record.epsg, 4326, always_xy=True)
    lon, lat = to_lonlat.transform((xmin + xmax) / 2, (ymin + ymax) / 2)
    sensing = record.id.split("_")[2]
    baseline = record.id.split("_")[3]  # "N0511": processing baseline 05.11
    version = f"{baseline[1:3]}.{baseline[3:5]}"
    return {
        "gsd": 10.0,
        "mission": "copernicus",
        "sci:doi": "10.5270/S2_-znk9xsj",
        "grid:code": f"MGRS-{tile}",
        # The live items give the lon/lat bbox here too (sic), not metres.
        "proj:bbox": list(bbox),
        "proj:code": f"EPSG:{record.epsg}",
        "providers": _providers("copernicus"),
        "instruments": ["msi"],
        "constellation": "sentinel-2",
        "mgrs:utm_zone": int(tile[:2]),
        "proj:centroid": {"lat": round(lat, 5), "lon": round(lon, 5)},
        "eo:cloud_cover": record.cloud_cover,
        "sat:orbit_state": "descending",
        "eopf:datatake_id": f"G{record.id[:3]}_{sensing}_{record.absolute_orbit:06d}_N{version}",
        "mgrs:grid_square": tile[3:],
        "processing:level": "L2A",
        "mgrs:latitude_band": tile[2],
        "processing:lineage": "IPF L2A processor",
        "processing:version": version,
        "processing:facility": "ESA",
        "processing:software": {"Sentinel-2 IPF": " "},
        "eopf:instrument_mode": "INS-NOBS",
        "product:timeliness_category": "NRT",
    }


def _item_assets(record: ProductRecord, href: str) -> dict[str, Any]:
    """The item's assets: the collection's layout with this product's hrefs and grid."""
    layouts = _stac_template("item_assets.json")
    wavelengths = layouts["s2_band_wavelengths_nm"].get(record.platform, {})
    assets: dict[str, Any] = {}
    for key, spec in layouts[record.collection].items():
        asset: dict[str, Any] = {}
        for field_name, value in spec.items():
            if field_name == "href_suffix":
                asset["href"] = href + _fill(value, record, wavelengths)
            elif field_name == "alternate":
                alternate = copy.deepcopy(value)
                xarray_alt = alternate["xarray"]
                suffix = xarray_alt.pop("href_suffix")
                alternate["xarray"] = {"href": href + suffix, **xarray_alt}
                asset["alternate"] = alternate
            elif field_name == "description":
                asset["description"] = _fill(value, record, wavelengths)
            elif field_name != "projected":
                asset[field_name] = copy.deepcopy(value)
        if spec.get("projected"):
            asset.update(_projection_fields(record, spec["gsd"]))
        assets[key] = asset
    return assets


def _fill(template: str, record: ProductRecord, wavelengths: dict[str, str]) -> str:
    """Fill ``{component_group}`` and ``{wavelength_nm}`` placeholders of a layout string."""
    if "{component_group}" in template:
        template = template.replace("{component_group}", record.component_group or "")
    if "{wavelength_nm}" in template:
        band = re.search(r"spectral band (b\w+) ", template)
        template = template.replace(
            "{wavelength_nm}", wavelengths.get(band.group(1) if band else "", "")
        )
    return template


def _projection_fields(record: ProductRecord, gsd: int) -> dict[str, Any]:
    """proj:* of a gridded asset at ``gsd`` metres: the tile's extent, size and geotransform."""
    xmin, ymin, xmax, ymax = utm_bounds(record)
    size = S2_TILE_SIZE_M // gsd
    # Affine coefficients (a, b, c, d, e, f) plus the matrix's last row, as the live items write it.
    transform = [float(gsd), 0.0, float(xmin), 0.0, -float(gsd), float(ymax), 0.0, 0.0, 1.0]
    return {
        "proj:bbox": [float(xmin), float(ymin), float(xmax), float(ymax)],
        "proj:code": f"EPSG:{record.epsg}",
        "proj:shape": [size, size],
        "proj:transform": transform,
    }
