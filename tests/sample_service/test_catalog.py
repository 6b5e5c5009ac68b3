"""The catalogue is data: every record checked at load, a bad one named in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers.sample_service import catalog, products, scenes
from helpers.sample_service.__main__ import one_line_errors
from helpers.sample_service.errors import CatalogueError

S2_RECORD = {
    "id": "S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416",
    "product_type": "S02MSIL2A",
    "platform": "sentinel-2a",
    "start_datetime": "2025-06-05T10:47:01.024000Z",
    "end_datetime": "2025-06-05T10:47:01.024000Z",
    "epsg": 32635,
    "utm_origin": [399960, 7900020],
    "mgrs_tile": "35WMU",
}


def _folder(tmp_path: Path, *records: object, collection: object = "sentinel-2-l2a") -> Path:
    (tmp_path / "s2.json").write_text(
        json.dumps({"collection": collection, "products": list(records)}), encoding="utf-8"
    )
    return tmp_path


def test_the_shipped_catalogue_loads_and_every_product_can_be_served() -> None:
    records = catalog.load_catalogue()
    assert records == catalog.PRODUCTS
    assert len({r.id for r in records}) == len(records) == 41 + 48
    # 19 held on the tutorial's date, 22 today (test_dated_catalogue.py checks what they are):
    # the tutorial's collections' 14 and 17, plus one of each of five more collections; and
    # the season of T32UNE: 21 and 27 acquisitions (test_season.py checks them).
    assert len(catalog.products_on("2025-06-18")) == 19 + 21
    assert len(catalog.products_on("2026-11-29")) == 22 + 27
    for record in records:
        assert record.product_type in products.TEMPLATE_FILES
        assert record.product_type in scenes._SCENE_TYPES
        assert catalog.get_product(record.id) == record


def test_a_record_becomes_a_product(tmp_path: Path) -> None:
    (record,) = catalog.load_catalogue(_folder(tmp_path, S2_RECORD))
    assert record.collection == "sentinel-2-l2a"
    assert record.utm_origin == (399960, 7900020)  # arrays become tuples
    assert record.cpm_version == "cpm_v256"  # the default


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"epsg": "32635"}, "epsg", "must be"),
        ({"utm_origin": [1, 2, 3]}, "utm_origin", "must be"),
        ({"cloud_cover": True}, "cloud_cover", "must be"),
        ({"start_datetime": "June"}, "start_datetime", "not an RFC 3339 time"),
        ({"colour": "blue"}, "colour", "not a field"),
        ({"product_type": None}, "product_type", "must be"),
        ({"swath_corners": [[0, 0], [1, 0], [1, 1], [0, 1]]}, "utm_origin", "one"),
    ],
)
def test_a_bad_record_is_one_line_naming_file_record_and_field(
    tmp_path: Path, change: dict, field: str, problem: str
) -> None:
    with pytest.raises(CatalogueError) as caught:
        catalog.load_catalogue(_folder(tmp_path, {**S2_RECORD, **change}))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"s2.json: record {S2_RECORD['id']}: field '{field}'")
    assert problem in message


def test_missing_fields_duplicates_and_broken_files_are_named(tmp_path: Path) -> None:
    incomplete = {k: v for k, v in S2_RECORD.items() if k != "platform"}
    with pytest.raises(CatalogueError, match=r"record .*T35WMU.*: field 'platform' is missing"):
        catalog.load_catalogue(_folder(tmp_path, incomplete))
    with pytest.raises(CatalogueError, match=r"field 'id' repeats one in s2\.json"):
        catalog.load_catalogue(_folder(tmp_path, S2_RECORD, S2_RECORD))
    with pytest.raises(CatalogueError, match=r"record #1: field '\*' is not a JSON object"):
        catalog.load_catalogue(_folder(tmp_path, [1]))
    with pytest.raises(CatalogueError, match="field 'collection'"):
        catalog.load_catalogue(_folder(tmp_path, S2_RECORD, collection=3))
    (tmp_path / "s2.json").write_text("{", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"s2\.json.*not valid JSON"):
        catalog.load_catalogue(tmp_path)


def test_adding_a_record_adds_a_product(tmp_path: Path) -> None:
    shutil.copytree(catalog.CATALOGUE_DIR, tmp_path / "catalogue")
    path = tmp_path / "catalogue" / "sentinel-2-l2a.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    new = {**S2_RECORD, "id": S2_RECORD["id"].replace("T35WMU", "T35WNV")}
    document["products"].append(new)
    path.write_text(json.dumps(document), encoding="utf-8")
    records = catalog.load_catalogue(tmp_path / "catalogue")
    assert len(records) == len(catalog.PRODUCTS) + 1
    assert new["id"] in {r.id for r in records} - {r.id for r in catalog.PRODUCTS}


def test_the_entry_script_reports_a_bad_record_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = CatalogueError("s2.json", "S2X", "epsg", "must be int")
    one_line_errors(CatalogueError, error, None)
    assert capsys.readouterr().err == (
        "CatalogueError: s2.json: record S2X: field 'epsg' must be int.\n"
    )
