"""The product types added by data alone replicate their real products (issue 16).

Sentinel-1 GRD, Sentinel-2 L1C, Sentinel-3 OLCI EFR, SLSTR RBT and SLSTR LST are built from one
real product's metadata each (``templates/product_types.json``) by `products_generic`, with
pixels from the generic scene. Each store must hold the template's groups and arrays with the
template's shapes, chunks, dtypes, codecs and attributes (names, times and footprint aside),
open with plain xarray, and be found by a search of its collection on both catalogue dates.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np
import pytest
import xarray as xr
from pystac_client import Client

from helpers.sample_service import (
    catalog,
    products,
    products_generic,
    scenes,
    stac_items,
    timefmt,
)
from helpers.sample_service.solar import mean_sun_angles, tile_sun_angles

DATES = ("2025-06-18", "2026-11-29")
GENERIC_TYPES = sorted(products_generic.product_types())
# One record of each data-driven type, the newest (made by the latest CPM version).
RECORDS = {
    kind: max((r for r in catalog.PRODUCTS if r.product_type == kind), key=lambda r: r.id)
    for kind in GENERIC_TYPES
}
# Collections with no product yet, and why: see templates/README.md ("Still empty").
STILL_EMPTY = {"sentinel-1-l1-slc", "sentinel-3-olci-l1-err", "sentinel-3-olci-l2-lrr"}
ARRAY_FIELDS = ("shape", "chunks", "dtype", "fill_value", "compressor", "filters", "order")


def _renamed(record: catalog.ProductRecord) -> dict[str, str]:
    """Template key -> key in the record's store (Sentinel-1 component groups are renamed)."""
    entry = products_generic.product_types()[record.product_type]
    template = products.load_template(record.product_type)["metadata"]
    group = entry.get("template_group")
    if not group:
        return {key: key for key in template}
    assert record.component_group is not None
    return {key: key.replace(group, record.component_group) for key in template}


@pytest.mark.parametrize("date", DATES)
def test_every_collection_but_the_documented_ones_holds_a_product(date: str) -> None:
    empty = {c for c in stac_items.collection_ids() if not catalog.products_in(c, date)}
    assert empty == STILL_EMPTY


@pytest.mark.parametrize("kind", GENERIC_TYPES)
def test_store_has_the_templates_groups_arrays_and_encodings(kind: str) -> None:
    record = RECORDS[kind]
    template = products.load_template(kind)["metadata"]
    built = products.build_zmetadata(record)["metadata"]
    renamed = _renamed(record)
    assert set(built) == {renamed[key] for key in template}
    arrays = [key for key in template if key.endswith(".zarray")]
    assert len(arrays) > 50, kind
    for key in arrays:
        real, ours = template[key], built[renamed[key]]
        assert {f: ours.get(f) for f in ARRAY_FIELDS} == {f: real.get(f) for f in ARRAY_FIELDS}
        attrs_key = key.replace(".zarray", ".zattrs")
        real_attrs, our_attrs = template[attrs_key], built[renamed[attrs_key]]
        assert set(our_attrs) == set(real_attrs), key
        unchanged = {k for k in real_attrs if not k.startswith("proj:")}
        for name in unchanged - {"long_name", "description", "comment"}:
            if isinstance(real_attrs[name], int | float | list) and name != "_ARRAY_DIMENSIONS":
                assert our_attrs[name] == real_attrs[name], (key, name)


@pytest.mark.parametrize("kind", GENERIC_TYPES)
def test_embedded_stac_keeps_the_real_keys_and_takes_the_records_values(kind: str) -> None:
    record = RECORDS[kind]
    template = products.load_template(kind)["metadata"][".zattrs"]["stac_discovery"]
    stac = products.build_zmetadata(record)["metadata"][".zattrs"]["stac_discovery"]
    assert set(stac) == set(template)
    assert set(stac["properties"]) == set(template["properties"])
    assert stac.get("stac_extensions") == template.get("stac_extensions")
    props = stac["properties"]
    assert timefmt.parse(props["start_datetime"]) == timefmt.parse(record.start_datetime)
    assert props["platform"] == record.platform
    assert props["sat:absolute_orbit"] == record.absolute_orbit
    assert stac["bbox"] == catalog.footprint(record)[0]
    if record.id.startswith("S3") or record.id.startswith("S2"):
        assert stac["id"].startswith(record.id)


@pytest.mark.parametrize("kind", GENERIC_TYPES)
def test_embedded_stac_times_are_written_as_the_template_writes_them(kind: str) -> None:
    """Same decimals and same UTC suffix (Z or +00:00) as the real product's value."""
    template = products.load_template(kind)["metadata"][".zattrs"]["stac_discovery"]
    stac = products.build_zmetadata(RECORDS[kind])["metadata"][".zattrs"]["stac_discovery"]

    def style(text: str) -> tuple[int, str]:
        fraction = re.search(r"\.(\d+)", text)
        return (len(fraction.group(1)) if fraction else 0), "Z" if text.endswith("Z") else text[-6:]

    for key in ("start_datetime", "end_datetime", "created"):
        if key in template["properties"]:
            assert style(stac["properties"][key]) == style(template["properties"][key]), key


@pytest.mark.parametrize("kind", GENERIC_TYPES)
def test_no_timestamp_of_the_template_product_survives(kind: str) -> None:
    record = RECORDS[kind]
    entry = products_generic.product_types()[kind]
    text = json.dumps(products.build_zmetadata(record))
    template_day = timefmt.parse(entry["template_start"])
    assert f"{template_day:%Y%m%dT%H%M}" not in text
    assert f"{template_day:%Y-%m-%dT%H:%M}" not in text


def _open(url: str) -> xr.DataTree:
    # Raw values: dtypes as stored, so they can be compared with the template's.
    return xr.open_datatree(url, engine="zarr", chunks={}, decode_cf=False, zarr_format=2)


@pytest.mark.parametrize("kind", GENERIC_TYPES)
def test_opens_with_xarray_as_the_template_describes(sample_service_url: str, kind: str) -> None:
    record = RECORDS[kind]
    date = DATES[1] if record.start_datetime >= "2026" else DATES[0]
    base = sample_service_url if date == DATES[0] else f"{sample_service_url}{date}/"
    tree = _open(catalog.product_href(record, base))
    built = products.build_zmetadata(record)["metadata"]
    groups = {key[: -len(".zgroup")].rstrip("/") for key in built if key.endswith(".zgroup")}
    assert {node.path.strip("/") for node in tree.subtree} == groups
    checked = 0
    for node in tree.subtree:
        for name, variable in node.ds.variables.items():
            path = f"{node.path.strip('/')}/{name}".lstrip("/")
            zarray = built.get(f"{path}/.zarray")
            if zarray is None:  # inherited coordinates appear in child groups too
                continue
            attrs = built[f"{path}/.zattrs"]
            # xarray reads an int8 array whose attributes say dtype "bool" as booleans.
            stored = "bool" if attrs.get("dtype") == "bool" else zarray["dtype"]
            assert variable.dtype == np.dtype(stored), path
            assert tuple(variable.shape) == tuple(zarray["shape"]), path
            if variable.chunks:
                assert tuple(c[0] for c in variable.chunks) == tuple(
                    min(c, s) for c, s in zip(zarray["chunks"], zarray["shape"], strict=True)
                ), path
            checked += 1
    arrays = [key for key in built if key.endswith(".zarray")]
    assert checked == len(arrays)


@pytest.mark.parametrize("date", DATES)
def test_search_finds_the_new_products(sample_service_url: str, date: str) -> None:
    base = sample_service_url if date == DATES[0] else f"{sample_service_url}{date}/"
    client = Client.open(base)
    for kind in GENERIC_TYPES:
        collection = products_generic.product_types()[kind]["collection"]
        found = [item.id for item in client.search(collections=[collection]).items()]
        assert found == [r.id for r in catalog.products_in(collection, date)]
        assert found, (collection, date)
        record = catalog.get_product(found[0])
        bbox = catalog.footprint(record)[0]
        hits = client.search(
            collections=[collection], bbox=bbox, datetime=f"{date[:4]}-01-01T00:00:00Z/.."
        )
        assert found[0] in [item.id for item in hits.items()]


def _values(record: catalog.ProductRecord, path: str) -> tuple[Any, np.ndarray]:
    spec = products.array_specs(products.build_zmetadata(record))[path]
    return spec, scenes.chunk_values(record, spec, (0,) * len(spec.shape))


def test_geolocation_and_times_follow_the_record() -> None:
    record = RECORDS["S03OLCEFR"]
    west, south, east, north = catalog.footprint(record)[0]
    _, lat = _values(record, "measurements/latitude")
    assert south - 0.01 <= lat.min() and lat.max() <= north + 0.01 and np.ptp(lat) > 1.0
    _, lon = _values(record, "measurements/longitude")
    assert west - 0.01 <= lon.min() and lon.max() <= east + 0.01
    _, stamp = _values(record, "conditions/image/time_stamp")
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    first = epoch + dt.timedelta(microseconds=int(stamp[0]) // 1000)
    assert abs(first - timefmt.parse(record.start_datetime)) < dt.timedelta(seconds=1)


def _decoded(spec: Any, values: np.ndarray) -> np.ndarray:
    """Physical values: integers through their encoding (stated in _eopf_attrs, maybe only)."""
    if values.dtype.kind not in "iu":
        return values  # floats are stored as physical values (EFR radiances are float32)
    attrs = {**spec.attrs.get("_eopf_attrs", {}), **spec.attrs}
    return values * attrs.get("scale_factor", 1) + attrs.get("add_offset", 0)


def test_radiances_and_temperatures_are_in_physical_ranges() -> None:
    spec, radiance = _values(RECORDS["S03OLCEFR"], "measurements/oa08_radiance")
    decoded = _decoded(spec, radiance)
    assert decoded.min() > 15 and decoded.max() < 130 and decoded.std() > 1
    spec, lst = _values(RECORDS["S03SLSLST"], "measurements/lst")
    decoded = _decoded(spec, lst)
    assert decoded.min() > 260 and decoded.max() < 310


def test_l1c_sun_angles_come_from_the_one_solar_model() -> None:
    record = RECORDS["S02MSIL1C"]
    _, grid = _values(record, "conditions/geometry/sun_angles")
    np.testing.assert_allclose(grid, np.stack(tile_sun_angles(record)))
    item = stac_items.build_item(record, "http://127.0.0.1:1/")
    zenith, azimuth = mean_sun_angles(record)
    assert item["properties"]["view:sun_elevation"] == pytest.approx(zenith)
    assert item["properties"]["view:sun_azimuth"] == pytest.approx(azimuth)
    other = products.build_zmetadata(record)["metadata"][".zattrs"]["other_metadata"]
    assert other["mean_sun_zenith_angle_in_deg_for_all_bands_all_detectors"] == zenith
    _, x = _values(record, "measurements/reflectance/r10m/x")
    assert x[0] == record.utm_origin[0] + 5 and np.all(np.diff(x) == 10)


def test_groupspec_flattening_changes_no_value() -> None:
    spec = {
        "attributes": {"a": 1},
        "members": {
            "g": {"attributes": {}, "members": {}},
            "v": {
                "attributes": {"_ARRAY_DIMENSIONS": ["x"]},
                "shape": [4],
                "chunks": [2],
                "dtype": "<f4",
                "fill_value": "NaN",
                "order": "C",
                "filters": None,
                "compressor": None,
                "dimension_separator": ".",
            },
        },
    }
    meta = products_generic.groupspec_to_zmetadata(spec)["metadata"]
    assert meta[".zattrs"] == {"a": 1} and "g/.zgroup" in meta
    assert meta["v/.zarray"]["shape"] == [4] and meta["v/.zarray"]["fill_value"] == "NaN"
    assert meta["v/.zattrs"] == {"_ARRAY_DIMENSIONS": ["x"]}
