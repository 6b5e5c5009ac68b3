"""What changed between the CPM versions that made the live products, applied to an item.

The live archive holds products of several processor versions (CPM 2.5.6, 2.6.2, 2.7.0), each
with its own structure and item shape, and a search returns them together. The stores' changes
are data (the ``edits`` of ``templates/product_types.json``); this module turns the item
`stac_items` builds into what a later version serves. The rules and their sources are listed in
the table of ``templates/README.md``.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from .catalog import S2_L2A, ProductRecord

_STAC_TEMPLATES = Path(__file__).parent / "templates" / "stac"
_ORDER = ("cpm_v256", "cpm_v262", "cpm_v270", "cpm_v300")  # v300: zarr3_catalog copies


def at_least(record: ProductRecord, version: str) -> bool:
    """Whether ``record`` was made by CPM ``version`` or a later one."""
    return _ORDER.index(record.cpm_version) >= _ORDER.index(version)


@functools.cache
def _v262_layout() -> dict[str, Any]:
    with (_STAC_TEMPLATES / "item_assets_cpm_v262.json").open(encoding="utf-8") as f:
        return json.load(f)


def adapt_item(record: ProductRecord, item: dict[str, Any], store_href: str, root: str) -> None:
    """Turn a cpm_v256-style item into the item the live API serves for ``record``'s CPM."""
    if not at_least(record, "cpm_v262"):
        return
    properties = item["properties"]
    properties["processing:software"] = {"EOPF-CPM": ".".join(record.cpm_version[5:])}
    properties["deprecated"] = False
    if record.collection != S2_L2A:
        return
    layout = _v262_layout()
    item["stac_extensions"] = list(layout["stac_extensions"])
    properties["mission"] = "Sentinel-2"
    properties["processing:lineage"] = "systematic"
    assets: dict[str, Any] = {}
    for key, spec in layout["assets"].items():
        asset = copy.deepcopy(spec)
        suffix = asset.pop("href_suffix")
        if suffix is None:  # zipped_product, on the live download host: below /zip/ here
            href = f"{root}/zip/collections/{record.collection}/items/{record.id}.zip"
        else:
            href = store_href + suffix
        assets[key] = {"href": href, **asset}
    item["assets"] = assets
