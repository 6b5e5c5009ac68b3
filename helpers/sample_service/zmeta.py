"""Reading and rewriting Zarr v2 consolidated metadata, apart from any product type.

`array_specs` decodes each array for generating chunks; `rewrite_strings`, `shift_timestamps`
and `set_shape` are the builder's (`products_generic`) steps on a template's document;
`groupspec_to_zmetadata` reads templates published as pydantic-zarr group specs.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ArraySpec:
    """One array of a store, with its metadata decoded for generating chunks."""

    path: str
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    compressor: dict[str, Any] | None
    dims: tuple[str, ...]
    attrs: dict[str, Any]

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        """Number of chunks along each dimension."""
        return tuple(-(-size // chunk) for size, chunk in zip(self.shape, self.chunks, strict=True))

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def array_specs(zmetadata: dict[str, Any]) -> dict[str, ArraySpec]:
    """Every array of a consolidated metadata document, by path."""
    meta = zmetadata["metadata"]
    specs: dict[str, ArraySpec] = {}
    for key, zarray in meta.items():
        if not key.endswith("/.zarray"):
            continue
        path = key[: -len("/.zarray")]
        attrs = meta.get(f"{path}/.zattrs", {})
        dtype = np.dtype(zarray["dtype"])
        fill = zarray["fill_value"]  # zarr v2 writes NaN as the string "NaN"
        specs[path] = ArraySpec(
            path=path,
            shape=tuple(zarray["shape"]),
            chunks=tuple(zarray["chunks"]),
            dtype=dtype,
            fill_value=float(fill) if isinstance(fill, str) and dtype.kind == "f" else fill,
            compressor=zarray["compressor"],
            dims=tuple(attrs.get("_ARRAY_DIMENSIONS", [])),
            attrs=attrs,
        )
    return specs


_STAMPS = (  # (pattern, strptime format), applied in this order
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?"), "%Y-%m-%dT%H:%M:%S.%f"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?"), "%Y-%m-%d %H:%M:%S.%f"),
    (re.compile(r"(?<!\d)\d{8}T\d{6}(?!\d)"), "%Y%m%dT%H%M%S"),
    (re.compile(r"\d{2}-[A-Z]{3}-\d{4} \d{2}:\d{2}:\d{2}\.\d{6}"), "%d-%b-%Y %H:%M:%S.%f"),
)


def shift_timestamps(text: str, old: dt.datetime, new: dt.datetime) -> str:
    """Move every timestamp near the template's sensing time by (new - old).

    Processing and auxiliary-file times in the templates' histories sit within
    hours of sensing; shifting them keeps their order and spacing plausible.
    Times far from sensing (validity limits such as 2100-01-01, software
    build dates) are left alone. A stamp keeps its format and its number of decimals.
    """

    def shift(fmt: str, match: re.Match[str]) -> str:
        raw = match.group(0)
        fmt = fmt if "." in raw else fmt.removesuffix(".%f")
        try:
            moment = dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC)
        except ValueError:  # e.g. the "99999999T999999" of an open-ended validity
            return raw
        if abs(moment - old) > dt.timedelta(days=45):
            return raw
        return (moment + (new - old)).strftime(fmt)[: len(raw)].upper()

    for pattern, fmt in _STAMPS:
        text = pattern.sub(functools.partial(shift, fmt), text)
    return text


def rewrite_strings(
    tree: Any, replacements: list[tuple[str, str]], old: dt.datetime, new: dt.datetime
) -> Any:
    """Rename (literal replacements) and re-time (`shift_timestamps`) every string and key.

    Names go in as placeholders and come out after the shift, so a record sensed within the
    shift's window of the template keeps the stamps of its own name unshifted.
    """
    text = json.dumps(tree)
    for index, (before, _) in enumerate(replacements):
        text = text.replace(before, f"@@name{index}@@")
    text = shift_timestamps(text, old, new)
    for index, (_, after) in enumerate(replacements):
        text = text.replace(f"@@name{index}@@", after)
    return json.loads(text)


def set_shape(meta: dict[str, Any], path: str, sizes: dict[str, int]) -> None:
    """Resize ``path`` along the named dimensions; single-chunk dimensions stay single-chunk."""
    zarray = meta[f"{path}/.zarray"]
    dims = meta[f"{path}/.zattrs"].get("_ARRAY_DIMENSIONS", [])
    shape, chunks = list(zarray["shape"]), list(zarray["chunks"])
    for axis, dim in enumerate(dims):
        if dim in sizes:
            whole = chunks[axis] == shape[axis]
            shape[axis] = sizes[dim]
            chunks[axis] = sizes[dim] if whole else min(chunks[axis], sizes[dim])
    zarray["shape"], zarray["chunks"] = shape, chunks


def array_paths(meta: dict[str, Any]) -> list[str]:
    return [key[: -len("/.zarray")] for key in meta if key.endswith("/.zarray")]


def groupspec_to_zmetadata(spec: dict[str, Any]) -> dict[str, Any]:
    """A pydantic-zarr ``GroupSpec`` (Zarr v2) flattened into ``.zmetadata`` keys, no value changed.

    Some reference products were published as group specs: the same facts in another layout.
    """
    metadata: dict[str, Any] = {}
    array_fields = ("chunks", "compressor", "dtype", "fill_value", "filters", "order", "shape")

    def visit(node: dict[str, Any], prefix: str) -> None:
        if node.get("members") is None:  # an array
            zarray = {field: node.get(field) for field in array_fields}
            zarray["zarr_format"] = 2
            if "dimension_separator" in node:
                zarray["dimension_separator"] = node["dimension_separator"]
            metadata[f"{prefix}.zarray"] = zarray
            metadata[f"{prefix}.zattrs"] = node.get("attributes", {})
            return
        metadata[f"{prefix}.zgroup"] = {"zarr_format": 2}
        metadata[f"{prefix}.zattrs"] = node.get("attributes", {})
        for name, member in node["members"].items():
            visit(member, f"{prefix}{name}/")

    visit(spec, "")
    return {"metadata": metadata, "zarr_consolidated_format": 1}
