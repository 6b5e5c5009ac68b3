"""Benchmark: the season time series of ``book/09_season_time_series.md``, bytes and memory.

Why: the chapter's claim is that a time series over a small area costs what the area touches,
not what the products weigh, and that a season maximum computed lazily needs a fraction of the
memory of loading the stack. Both are measured here, each against its reference in the same
run, with the chapter's code (search, one DataTree per product, SCL mask):

- bytes: everything the field's NDVI series downloads (metadata included), against the physical
  limit: the compressed size of every chunk the field intersects in the three arrays of every
  product (HTTP HEAD), plus each product's consolidated ``.zmetadata``; target <= 1.1. The
  chapter opens each tree with ``create_default_indexes=False`` and indexes x and y of its two
  groups only (four small coordinate reads per product, counted against the target). With the
  asset's ``eopf-zarr`` kwargs as they are, the engine builds the default index of every 1-D
  coordinate of every group (58 reads, about 0.23 MB per product): 1.14 at 2025-06-18, missed;
- memory: the whole-tile season maximum at 60 m (the products below 15 % cloud, as the
  chapter's cluster section) computed lazily with dask, against loading the stack first and
  then reducing it; peak allocations (tracemalloc) in fresh processes, target <= 0.25.
"""

from __future__ import annotations

import fsspec
import numpy as np
import xarray as xr
from pyproj import Transformer

from helpers.data_source import stac_root_url
from helpers.memory import measure_memory
from helpers.traffic import TrafficMeter

FIELD_LON, FIELD_LAT, FIELD_SIZE = 9.48557, 53.51210, 200  # the chapter's field
TILE = "MGRS-32UNE"
MAX_CLOUD = 90
ARRAYS = (
    "measurements/reflectance/r20m/b04",
    "measurements/reflectance/r20m/b8a",
    "conditions/mask/l2a_classification/r20m/scl",
)
BYTES_TARGET = 1.1
MEMORY_TARGET = 0.25

SEARCH = """
import datetime as dt
import xarray as xr
from pystac_client import Client
client = Client.open({url!r})
point = {{"type": "Point", "coordinates": [{lon}, {lat}]}}
newest = next(client.search(collections=["sentinel-2-l2a"], intersects=point,
    query={{"grid:code": {{"eq": {tile!r}}}}}, sortby="-datetime", max_items=1).items())
start = newest.datetime - dt.timedelta(days=182)
season = f"{{start:%Y-%m-%d}}T00:00:00Z/{{newest.datetime:%Y-%m-%d}}T23:59:59Z"
items = list(client.search(collections=["sentinel-2-l2a"], intersects=point, datetime=season,
    query={{"grid:code": {{"eq": {tile!r}}}, "eo:cloud_cover": {{"lt": {cloud}}}}},
    sortby="datetime").items())
"""
TILE_STACK = """
clearest = [item for item in items if item.properties["eo:cloud_cover"] < 15]
def tile_ndvi(item):
    asset = item.assets["product"]
    tree = xr.open_datatree(asset.href, **asset.extra_fields["xarray:open_datatree_kwargs"])
    bands = tree["/measurements/reflectance/r60m"]
    scl = tree["/conditions/mask/l2a_classification/r60m"]["scl"]
    ndvi = (bands["b8a"] - bands["b04"]) / (bands["b8a"] + bands["b04"])
    return ndvi.where(scl.isin([4, 5, 6]))
stack = xr.concat([tile_ndvi(item) for item in clearest], dim="time")
"""
LAZY = "result = float(stack.max('time').compute().mean())"
EAGER = "loaded = stack.compute()\nresult = float(loaded.max('time').mean())"


def _items(url: str) -> list:
    namespace: dict = {}
    code = SEARCH.format(url=url, lon=FIELD_LON, lat=FIELD_LAT, tile=TILE, cloud=MAX_CLOUD)
    exec(code, namespace)  # the same search the memory runs make
    return namespace["items"]


def _open_product(asset) -> xr.DataTree:
    """As the chapter's ``open_product``: the tree without default indexes."""
    kwargs = asset.extra_fields["xarray:open_datatree_kwargs"]
    if kwargs.get("engine") == "eopf-zarr" and kwargs.get("op_mode") == "native":
        kwargs = {"engine": "zarr", "chunks": kwargs.get("chunks", {})}
    return xr.open_datatree(asset.href, create_default_indexes=False, **kwargs)


def _indexed(group: xr.DataTree, names: list[str]) -> xr.Dataset:
    """As the chapter's ``indexed``: the variables with x and y indexes to select by."""
    return group.to_dataset()[names].set_xindex("x").set_xindex("y")


def _field_series(items: list) -> tuple[TrafficMeter, list[tuple[str, dict]]]:
    """The chapter's field series, metered; and where each product's field lies."""
    epsg = items[0].properties.get("proj:code") or f"EPSG:{items[0].properties['proj:epsg']}"
    x, y = Transformer.from_crs("EPSG:4326", epsg, always_xy=True).transform(FIELD_LON, FIELD_LAT)
    half = FIELD_SIZE / 2
    field = {"x": slice(x - half, x + half), "y": slice(y + half, y - half)}
    touched = []
    with TrafficMeter() as meter:
        for item in items:
            asset = item.assets["product"]
            tree = _open_product(asset)
            bands = _indexed(tree["/measurements/reflectance/r20m"], ["b04", "b8a"])
            scl = _indexed(tree["/conditions/mask/l2a_classification/r20m"], ["scl"])["scl"]
            ndvi = ((bands["b8a"] - bands["b04"]) / (bands["b8a"] + bands["b04"])).where(
                scl.isin([4, 5, 6])
            )
            ndvi.sel(field).compute()  # as the chapter: the field is read, then reduced
            ys, xs = bands["y"].values, bands["x"].values
            rows = np.nonzero((ys <= field["y"].start) & (ys >= field["y"].stop))[0]
            cols = np.nonzero((xs >= field["x"].start) & (xs <= field["x"].stop))[0]
            chunk = bands["b04"].data.chunksize
            blocks = {
                "rows": sorted({int(r) // chunk[0] for r in rows}),
                "cols": sorted({int(c) // chunk[1] for c in cols}),
            }
            touched.append((asset.href, blocks))
    return meter, touched


def _physical_limit(touched: list[tuple[str, dict]]) -> int:
    """Compressed bytes of every intersected chunk, plus each store's .zmetadata (HEAD sizes)."""
    fs = fsspec.filesystem("http")
    total = 0
    for href, blocks in touched:
        store = href.rstrip("/")
        total += fs.size(f"{store}/.zmetadata")
        for array in ARRAYS:
            for row in blocks["rows"]:
                for col in blocks["cols"]:
                    total += fs.size(f"{store}/{array}/{row}.{col}")
    return total


def measure() -> list[dict]:
    """Bytes of the field series against the physical limit; lazy against eager memory."""
    url = stac_root_url()
    items = _items(url)
    meter, touched = _field_series(items)
    limit = _physical_limit(touched)
    bytes_ratio = meter.bytes_downloaded / limit
    setup = SEARCH.format(url=url, lon=FIELD_LON, lat=FIELD_LAT, tile=TILE, cloud=MAX_CLOUD)
    setup += TILE_STACK
    lazy = measure_memory(LAZY, setup=setup)
    eager = measure_memory(EAGER, setup=setup)
    if not np.isclose(lazy.result, eager.result):
        raise RuntimeError(f"lazy and eager maxima differ: {lazy.result} != {eager.result}")
    memory_ratio = lazy.peak_bytes / eager.peak_bytes
    split = meter.by_kind()
    return [
        {
            "name": "season: field series bytes / (intersected chunks + .zmetadata)",
            "value": bytes_ratio,
            "target": f"<= {BYTES_TARGET}",
            "ok": bytes_ratio <= BYTES_TARGET,
            "detail": (
                f"{len(items)} products: {meter.bytes_downloaded / 1e6:.2f} MB "
                f"read in {meter.requests} requests ({split['metadata']['bytes'] / 1e6:.2f} MB "
                f"metadata, {split['chunk']['bytes'] / 1e6:.2f} MB chunks); "
                f"limit {limit / 1e6:.2f} MB"
            ),
        },
        {
            "name": "season: lazy (dask) / eager season maximum, peak memory",
            "value": memory_ratio,
            "target": f"<= {MEMORY_TARGET}",
            "ok": memory_ratio <= MEMORY_TARGET,
            "detail": (
                f"whole tile at 60 m: peak allocated {lazy.peak_mb:.0f} MB lazy, "
                f"{eager.peak_mb:.0f} MB eager"
            ),
        },
    ]
