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

from dataclasses import dataclass, field
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
