"""STAC items of the Zarr v3 staging collection, shaped like the live ones.

They keep the ``sentinel-2-l2a`` item's id, time, footprint and most properties, but their
assets are level groups of a v3 store typed ``application/vnd.zarr; version=3`` (so
``MediaType.ZARR`` finds nothing) without ``xarray:*`` kwargs, and the CRS is in ``proj:code``
and ``proj:wkt2``. The assets are a real item's (``templates/stac/item_assets_cpm_v300.json``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pyproj import CRS

from . import catalog, stac_items
from .catalog import ProductRecord, product_href, utm_bounds

_TEMPLATE = Path(__file__).parent / "templates" / "stac" / "item_assets_cpm_v300.json"
PROCESSING_SOFTWARE = {
    "EOPF_CPM": "3.0.0",
    "EOPF_MODEL": "1.0.0",
    "COMMON_PFSD": "3.0.0",
    "EOPF_MAPPING": "1.0.0",
    "SPECIFIC_PFSD": "1.1.0",
}
"""``processing:software`` of both real staging items (reference folder, September 2026)."""
_DROPPED_PROPERTIES = ("proj:centroid", "gsd")


@functools.cache
def _layout() -> dict[str, Any]:
    with _TEMPLATE.open(encoding="utf-8") as f:
        return json.load(f)


def build_item(record: ProductRecord, base_url: str) -> dict[str, Any]:
    """The staging item of ``record`` (a `zarr3_catalog` copy) with hrefs on ``base_url``."""
    original = catalog.get_product(record.id)
    assert original is not None and record.epsg is not None
    item = stac_items.build_item(original, base_url)
    root = base_url.rstrip("/")
    collection_href = f"{root}/collections/{record.collection}"
    item["collection"] = record.collection
    for link in item["links"]:
        if link["rel"] in ("collection", "parent"):
            link["href"] = collection_href
        elif link["rel"] == "self":
            link["href"] = f"{collection_href}/items/{record.id}"
    layout = _layout()
    item["stac_extensions"] = list(layout["stac_extensions"])
    properties = item["properties"]
    for key in _DROPPED_PROPERTIES:
        properties.pop(key, None)
    xmin, ymin, xmax, ymax = utm_bounds(record)
    properties.update(
        {
            "gsd": 10.0,
            "mission": "Sentinel-2",
            "proj:bbox": [float(xmin), float(ymin), float(xmax), float(ymax)],
            "proj:code": f"EPSG:{record.epsg}",
            "proj:wkt2": CRS.from_epsg(record.epsg).to_wkt("WKT1_GDAL"),
            "processing:lineage": "systematic",
            "processing:software": dict(PROCESSING_SOFTWARE),
            "deprecated": False,
        }
    )
    store, collection = product_href(record, base_url), record.collection
    values = {"store": store, "root": root, "collection": collection, "id": record.id}
    item["assets"] = stac_items.fill_layout(layout["assets"], values)
    return item
