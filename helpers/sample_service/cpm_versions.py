"""What changed between the CPM versions that made the live products, applied to a product.

The live archive holds products of several processor versions (CPM 2.5.6, 2.6.2, 2.7.0), each
with its own structure and item shape, and a search returns them together. `products` builds
every store from the cpm_v256 templates; these functions turn that store, and the item
`stac_items` builds, into what a later version writes. The rules and their sources are listed
in the table of ``templates/README.md``.
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
QUICKLOOK_GROUP = "quality/l2a_quicklook"
S2_CRS_ATTRIBUTES = ("proj:epsg", "proj:bbox", "proj:shape", "proj:transform", "proj:wkt2")
"""The CRS attributes cpm_v256 writes on every gridded Sentinel-2 array, and 2.6.2 no longer."""
LFR_GIFAPAR_SCALE = 0.003937008
"""Scale of the uint8 GIFAPAR of cpm_v262 (1/254), as printed for the 2026 product."""
LFR_COORDINATE_SCALE = 1e-06
"""Scale of the int32 latitudes and longitudes of cpm_v262 (microdegrees)."""
INT32_FILL = -2147483648


def at_least(record: ProductRecord, version: str) -> bool:
    """Whether ``record`` was made by CPM ``version`` or a later one."""
    return _ORDER.index(record.cpm_version) >= _ORDER.index(version)


# --- The store ---------------------------------------------------------------------------------


def adapt_s2_metadata(record: ProductRecord, meta: dict[str, Any]) -> None:
    """Turn a cpm_v256 Sentinel-2 L2A metadata dict into the structure of ``record``'s CPM."""
    if not at_least(record, "cpm_v262"):
        return
    for key in [k for k in meta if k.startswith(QUICKLOOK_GROUP + "/")]:
        del meta[key]
    for key, attrs in meta.items():
        if key.endswith("/.zattrs") and f"{key[: -len('.zattrs')]}.zarray" in meta:
            for name in S2_CRS_ATTRIBUTES:
                attrs.pop(name, None)
    properties = meta[".zattrs"]["stac_discovery"]["properties"]
    epsg = properties.pop("proj:epsg", record.epsg)
    properties["proj:code"] = f"EPSG:{epsg}"


def lfr_encodings(record: ProductRecord, meta: dict[str, Any]) -> None:
    """Store the LFR arrays cpm_v262 integer-encodes as integers (dtype, fill, scale)."""
    if not at_least(record, "cpm_v262"):
        return
    gifapar = "measurements/gifapar"
    meta[f"{gifapar}/.zarray"].update({"dtype": "|u1", "fill_value": 255})
    meta[f"{gifapar}/.zattrs"].update({"scale_factor": LFR_GIFAPAR_SCALE, "add_offset": 0.0})
    for key, attrs in meta.items():
        name = key[: -len("/.zattrs")].rsplit("/", 1)[-1] if key.endswith("/.zattrs") else ""
        if name in ("latitude", "longitude") and attrs.get("scale_factor") == LFR_COORDINATE_SCALE:
            zarray = meta[key.replace(".zattrs", ".zarray")]
            zarray.update({"dtype": "<i4", "fill_value": INT32_FILL})


# --- The item ----------------------------------------------------------------------------------


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
