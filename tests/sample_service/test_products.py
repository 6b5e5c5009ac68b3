"""The stores' metadata replicate the real products the templates come from.

Every array of every product type is compared with the carried template:
shape, chunks, dtype, codec, fill value, order, filters and attributes must
be the template's except for the documented per-product changes
(``templates/README.md``), and the facts the tutorial prints must hold.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from helpers.sample_service import catalog, products, products_generic

S2_TUTORIAL = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
S2_QUICKLOOK = "S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416"
OCN_TUTORIAL = "S1A_IW_OCN__2SDV_20250604T193923_20250604T193948_059501_0762FA_C971"
LFR_TUTORIAL = (
    "S3A_OL_2_LFR____20250605T102430_20250605T102730_20250605T122455_0179_126_336_2160_PS1_O_NR_003"
)
OCN_TEMPLATE_GROUP = "S01SIWOCN_20250321T063156_0025_A334_2479_0738CE_VV"
BLOSC = {"blocksize": 0, "clevel": 3, "cname": "zstd", "id": "blosc", "shuffle": 2}
# Attributes that products.py rewrites per product (templates/README.md).
S2_PER_PRODUCT_ATTRS = {"proj:epsg", "proj:bbox", "proj:transform", "proj:wkt2"}
# Stored as float32 by cpm_v256 (the template: integers), as the tutorial prints them.
LFR_FLOAT_IN_CPM_V256 = {"conditions/image/detector_index", "conditions/image/frame_offset"}
GRIB_GRID_ATTRS = {
    "GRIB_latitudeOfFirstGridPointInDegrees",
    "GRIB_latitudeOfLastGridPointInDegrees",
    "GRIB_longitudeOfFirstGridPointInDegrees",
    "GRIB_longitudeOfLastGridPointInDegrees",
    "GRIB_iDirectionIncrementInDegrees",
    "GRIB_jDirectionIncrementInDegrees",
}


def _meta(product_id: str) -> dict[str, Any]:
    record = catalog.get_product(product_id)
    assert record is not None
    return products.build_zmetadata(record)["metadata"]


def _template(product_type: str) -> dict[str, Any]:
    return products.load_template(product_type)["metadata"]


def _arrays(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k[: -len("/.zarray")]: v for k, v in meta.items() if k.endswith("/.zarray")}


def _groups(meta: dict[str, Any]) -> set[str]:
    return {k[: -len(".zgroup")].rstrip("/") for k in meta if k.endswith(".zgroup")}


def _same_json(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN (fill values, attributes)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.mark.parametrize("record", catalog.PRODUCTS, ids=lambda r: r.id[:40])
def test_every_node_has_its_documents(record: catalog.ProductRecord) -> None:
    meta = products.build_zmetadata(record)["metadata"]
    for group in _groups(meta):
        prefix = f"{group}/" if group else ""
        assert meta[f"{prefix}.zgroup"] == {"zarr_format": 2}
        assert isinstance(meta[f"{prefix}.zattrs"], dict)
    for path, zarray in _arrays(meta).items():
        assert f"{path}/.zattrs" in meta
        assert zarray["zarr_format"] == 2 and zarray["order"] == "C"
        assert zarray["filters"] is None
        assert zarray["compressor"] in (BLOSC, None)
        if zarray["shape"]:  # only 0-d scalars go uncompressed, as in the templates
            assert zarray["compressor"] == BLOSC, path
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        assert parent in _groups(meta), path


def test_s2_arrays_match_the_template_except_the_projection_and_names() -> None:
    meta, template = _meta(S2_TUTORIAL), _template("S02MSIL2A")
    assert len(_arrays(meta)) == 149 and len(_groups(meta)) == 36
    assert _arrays(meta) == _arrays(template)  # shapes, chunks, dtypes, codecs, fills
    assert _groups(meta) == _groups(template)
    for path in _arrays(template):
        ours, theirs = dict(meta[f"{path}/.zattrs"]), dict(template[f"{path}/.zattrs"])
        for changed in S2_PER_PRODUCT_ATTRS | GRIB_GRID_ATTRS | {"long_name", "_eopf_attrs"}:
            ours.pop(changed, None)
            theirs.pop(changed, None)
        if path.endswith(("/time", "/valid_time")):
            ours.pop("units"), theirs.pop("units")
        assert _same_json(ours, theirs), path


def test_s2_tutorial_facts() -> None:
    meta = _meta(S2_TUTORIAL)
    chunks = {
        res: meta[f"measurements/reflectance/r{res}m/b02/.zarray"]["chunks"] for res in (10, 20, 60)
    }
    assert chunks == {10: [1830, 1830], 20: [915, 915], 60: [305, 305]}
    assert meta["quality/l2a_quicklook/r10m/tci/.zarray"]["chunks"] == [1, 1830, 1830]
    assert meta["quality/l2a_quicklook/r20m/tci/.zarray"]["chunks"] == [1, 915, 915]
    assert meta["quality/l2a_quicklook/r60m/tci/.zarray"]["chunks"] == [1, 305, 305]
    printed = {"b02": "492.3", "b03": "559.0", "b04": "665.0", "b08": "833.0"}
    for band, nm in printed.items():
        attrs = meta[f"measurements/reflectance/r10m/{band}/.zattrs"]
        expected = f"BOA reflectance from MSI acquisition at spectral band {band} {nm} nm"
        assert attrs["long_name"] == expected
        assert attrs["_eopf_attrs"]["long_name"] == expected
        assert attrs["units"] == "digital_counts"
        assert attrs["scale_factor"] == 0.0001 and attrs["add_offset"] == -0.1
        assert attrs["proj:epsg"] == 32626
    b08 = meta["measurements/reflectance/r10m/b08/.zattrs"]
    assert b08["proj:bbox"] == [399960.0, 4490220.0, 509760.0, 4600020.0]
    assert b08["proj:transform"][:6] == [10.0, 0.0, 399960.0, 0.0, -10.0, 4600020.0]
    assert "UTM zone 26N" in b08["proj:wkt2"] and '"EPSG","32626"' in b08["proj:wkt2"]
    root = meta[".zattrs"]
    props = root["stac_discovery"]["properties"]
    assert props["proj:epsg"] == 32626
    assert root["stac_discovery"]["id"] == S2_TUTORIAL
    assert props["platform"] == "sentinel-2b" and props["sat:relative_orbit"] == 95
    assert props["eo:cloud_cover"] == 71.4
    assert not [key for key in props if key.startswith("mgrs:")]
    assert root["stac_discovery"]["bbox"] == catalog.footprint(catalog.get_product(S2_TUTORIAL))[0]
    text = json.dumps(root["other_metadata"])
    assert "T32TPS" not in text and "T26TML" in text and "2022-04-28" not in text


@pytest.mark.parametrize(
    "record",
    [next(r for r in catalog.PRODUCTS if r.product_type == t) for t in products.PRODUCT_TYPES],
    ids=lambda r: r.product_type,
)
def test_embedded_stac_has_the_real_products_keys_and_extensions(
    record: catalog.ProductRecord,
) -> None:
    """Defect 7 of issue 16: the embedded STAC gained ``mgrs:*`` without the mgrs extension.

    The real products' ``stac_discovery`` (the templates) fixes which properties and which
    extensions a product states; only the values follow the product (and ``proj:epsg``
    becomes ``proj:code`` from CPM 2.6.2 on, as `cpm_versions` documents).
    """
    template = _template(record.product_type)
    meta = products.build_zmetadata(record)["metadata"]
    for key, attrs in template.items():
        if not key.endswith(".zattrs") or "stac_discovery" not in attrs:
            continue
        entry = products_generic.product_types().get(record.product_type, {})
        template_group = entry.get("template_group", OCN_TEMPLATE_GROUP)
        built_key = key.replace(template_group, record.component_group or template_group)
        real, built = attrs["stac_discovery"], meta[built_key]["stac_discovery"]
        assert built.get("stac_extensions") == real.get("stac_extensions"), key
        real_keys = set(real.get("properties", {}))
        if "proj:code" in built.get("properties", {}):
            real_keys = (real_keys - {"proj:epsg"}) | {"proj:code"}
        assert set(built.get("properties", {})) == real_keys, key
        assert set(built) == set(real), key


def test_s2a_products_keep_the_s2a_band_centres() -> None:
    meta, template = _meta(S2_QUICKLOOK), _template("S02MSIL2A")
    for band in ("b02", "b03", "b04", "b08"):
        key = f"measurements/reflectance/r10m/{band}/.zattrs"
        assert meta[key]["long_name"] == template[key]["long_name"]
    assert meta[".zattrs"]["stac_discovery"]["properties"]["proj:epsg"] == 32635


def test_s2_meteorology_grid_covers_the_tile() -> None:
    record = catalog.get_product(S2_TUTORIAL)
    _, _, east, north = catalog.footprint(record)[0]
    meta = _meta(S2_TUTORIAL)
    attrs = meta["conditions/meteorology/cams/aod550/.zattrs"]
    assert attrs["GRIB_latitudeOfFirstGridPointInDegrees"] == pytest.approx(north, abs=1e-3)
    assert attrs["GRIB_longitudeOfLastGridPointInDegrees"] == pytest.approx(east, abs=1e-3)
    assert meta["conditions/meteorology/cams/time/.zattrs"]["units"] == (
        "days since 2025-05-22 00:00:00"
    )


def test_ocn_renames_the_component_group_and_resizes_owi() -> None:
    record = catalog.get_product(OCN_TUTORIAL)
    meta, template = _meta(OCN_TUTORIAL), _template("S01SIWOCN")
    group = "S01SIWOCN_20250604T193923_0025_A340_C971_0762FA_VV"
    assert record.component_group == group
    assert len(_arrays(meta)) == 114 and len(_groups(meta)) == 16
    assert OCN_TEMPLATE_GROUP not in json.dumps(meta)
    ours = _arrays(meta)
    for path, theirs in _arrays(template).items():
        mine = ours[path.replace(OCN_TEMPLATE_GROUP, group)]
        dims = template[f"{path}/.zattrs"]["_ARRAY_DIMENSIONS"]
        if path.startswith("owi/") and dims[:2] == ["azimuth", "range"]:
            assert mine["shape"][:2] == [167, 255] and mine["chunks"][:2] == [167, 255]
            assert mine["shape"][2:] == theirs["shape"][2:]
            mine = {**mine, "shape": theirs["shape"], "chunks": theirs["chunks"]}
        assert _same_json(mine, theirs), path
    measurements = f"owi/{group}/measurements"
    for name in ("latitude", "longitude", "wind_direction", "wind_speed"):
        zarray = meta[f"{measurements}/{name}/.zarray"]
        assert zarray["dtype"] == "<f4" and zarray["shape"] == [167, 255]
        assert meta[f"{measurements}/{name}/.zattrs"]["_ARRAY_DIMENSIONS"] == ["azimuth", "range"]
    assert meta[f"{measurements}/wind_speed/.zarray"]["fill_value"] == -999.0
    assert meta[f"{measurements}/latitude/.zarray"]["fill_value"] == "NaN"
    links = meta["owi/.zattrs"]["stac_discovery"]["links"]
    assert links == [group]
    bbox = meta[".zattrs"]["stac_discovery"]["bbox"]
    assert bbox == pytest.approx([-25.77445, 30.25712, -22.82115, 32.16941])


def test_lfr_is_reduced_to_the_38_arrays_of_cpm_256() -> None:
    meta, template = _meta(LFR_TUTORIAL), _template("S03OLCLFR")
    arrays, theirs = _arrays(meta), _arrays(template)
    assert len(arrays) == 38 and len(theirs) == 46
    assert set(theirs) - set(arrays) == set(
        pattern.removesuffix("/*")
        for pattern in products_generic.type_entries()["S03OLCLFR"]["edits"][0]["drop"]
    )
    measured = {p.rsplit("/", 1)[1] for p in arrays if p.startswith("measurements/")}
    assert measured == {"gifapar", "iwv", "latitude", "longitude", "otci", "rc681", "rc865"}
    for name in ("gifapar", "iwv", "otci", "rc681", "rc865", "latitude", "longitude"):
        zarray = arrays[f"measurements/{name}"]
        assert zarray["shape"] == [4091, 4865] and zarray["chunks"] == [1024, 1024]
        assert zarray["dtype"] == ("<f8" if name in ("latitude", "longitude") else "<f4")
        assert meta[f"measurements/{name}/.zattrs"]["_ARRAY_DIMENSIONS"] == ["rows", "columns"]
    for name in ("detector_index", "frame_offset"):
        assert arrays[f"conditions/image/{name}"]["dtype"] == "<f4"
    first_ten = sorted(arrays)[:10]
    assert first_ten == [
        "conditions/geometry/latitude",
        "conditions/geometry/longitude",
        "conditions/geometry/oaa",
        "conditions/geometry/oza",
        "conditions/geometry/saa",
        "conditions/geometry/sza",
        "conditions/image/altitude",
        "conditions/image/detector_index",
        "conditions/image/frame_offset",
        "conditions/image/latitude",
    ]
    for path, zarray in arrays.items():
        if path in LFR_FLOAT_IN_CPM_V256:
            continue
        assert _same_json(zarray, theirs[path]), path
        attrs, template_attrs = meta[f"{path}/.zattrs"], template[f"{path}/.zattrs"]
        if path.endswith(("latitude", "longitude")):
            assert "scale_factor" not in attrs  # degrees, not scaled integers
            assert abs(attrs["valid_max"]) in (90, 180)
        else:
            assert _same_json(attrs, template_attrs), path


def test_lfr_root_attributes_follow_the_product() -> None:
    root = _meta(LFR_TUTORIAL)[".zattrs"]
    props = root["stac_discovery"]["properties"]
    assert root["stac_discovery"]["id"] == LFR_TUTORIAL
    assert props["platform"] == "sentinel-3a" and props["proj:shape"] == [4091, 4865]
    assert props["start_datetime"].startswith("2025-06-05T10:24:30")
    assert root["other_metadata"]["cycle_number"] == 126
    assert "S3B_OL_2_LFR____20250416" not in json.dumps(root)


def test_array_specs_decode_fill_values() -> None:
    specs = products.array_specs(products.build_zmetadata(catalog.get_product(LFR_TUTORIAL)))
    assert math.isnan(specs["measurements/latitude"].fill_value)
    assert specs["measurements/gifapar"].fill_value == 255.0
    assert specs["quality/lqsf"].fill_value is None
    assert specs["measurements/gifapar"].chunk_grid == (4, 5)
    assert specs["measurements/gifapar"].dims == ("rows", "columns")


def test_timestamps_near_sensing_move_and_others_stay() -> None:
    import datetime as dt

    old = dt.datetime(2022, 4, 28, 10, 6, 1, tzinfo=dt.UTC)
    new = dt.datetime(2025, 5, 22, 12, 50, 39, tzinfo=dt.UTC)
    text = "S 20220428T141313 V21000101T000000 built 2019-01-01T00:00:00 at 2022-04-28 10:13:00"
    shifted = products_generic.shift_timestamps(text, old, new)
    assert shifted == (
        "S 20250522T165751 V21000101T000000 built 2019-01-01T00:00:00 at 2025-05-22 12:57:38"
    )
