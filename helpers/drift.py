"""Reading a rolling, drifting archive: the four habits chapter 01 teaches, for later chapters.

Why this module exists: the live EOPF archive keeps products for a few months and the
processor that writes them changes their structure (`book/01_find_and_open.md`, "When the
archive moves on"). Chapter 01 writes each habit out in full; the later chapters call these
functions, which do exactly that and nothing more, so the lesson stays on the page where it
is taught and the other chapters stay short.
"""

from __future__ import annotations

import re
from typing import Any


def find_item(client: Any, collection_id: str, preferred_id: str, **search: Any) -> tuple[Any, str]:
    """(item, why): ``preferred_id`` if the collection still holds it, else the newest match.

    ``search`` narrows the fallback search (``bbox``, ``intersects``, ``query``...); the
    newest comes first because the search sorts by ``-datetime``. ``why`` is one sentence
    saying which item was taken and why, for the page to print.
    """
    collection = client.get_collection(collection_id)
    item = collection.get_item(preferred_id)
    if item is not None:
        return item, f"{item.id}: the tutorial's product, still in the archive."
    newest = next(
        iter(
            client.search(
                collections=[collection_id], sortby="-datetime", max_items=1, **search
            ).items()
        ),
        None,
    )
    if newest is None:
        raise LookupError(
            f"{collection_id} holds neither {preferred_id} nor any item matching {search}."
        )
    return newest, (
        f"{newest.id}: the newest matching product, because the archive no longer holds "
        f"the tutorial's {preferred_id}."
    )


def crs_code(item: Any) -> str:
    """The item's CRS as ``EPSG:<code>``: ``proj:code`` (projection v2), else ``proj:epsg``."""
    code = item.properties.get("proj:code")
    if code:
        return str(code)
    epsg = item.properties.get("proj:epsg")
    if epsg is None:
        raise LookupError(f"{item.id} states neither proj:code nor proj:epsg.")
    return f"EPSG:{epsg}"


def cpm_version(item: Any) -> str:
    """The version of ESA's processor (CPM) that made the item, e.g. ``"2.5.6"``.

    ``processing:software`` says it on items since 2026; items of 2025 do not, and the path of
    their product store does instead (``.../cpm_v256/...``).
    """
    stated = item.properties.get("processing:software", {}).get("EOPF-CPM")
    if stated:
        return str(stated)
    product = item.assets.get("product")
    in_path = re.search(r"/cpm_v(\d)(\d)(\d)/", product.href) if product else None
    if in_path is None:
        raise LookupError(f"{item.id} states its CPM version neither in a property nor a path.")
    return ".".join(in_path.groups())


def find_group(tree: Any, pattern: str) -> str:
    """The one group path of ``tree`` matching the regular expression ``pattern``."""
    found = [path for path in tree.groups if re.fullmatch(pattern, path)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} groups match {pattern!r}: {found[:5]}")
    return found[0]
