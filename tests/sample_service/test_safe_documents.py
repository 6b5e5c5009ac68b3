"""The SAFE replica's documents as filled templates (`safe_metadata`): every value lands where
the template puts it, repeats follow the rows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from helpers.sample_service import safe_metadata
from helpers.sample_service.catalog import get_product
from helpers.sample_service.solar import tile_sun_angles

RECORD = get_product("S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416")
VALUES = safe_metadata.product_values(RECORD)
XFDU = "{urn:ccsds:schema:xfdu:1}"


def _entries() -> list[dict]:
    return [
        {**o, "href": f"./{path}", "size": o["template_size"], "sha3_256": f"{i:064x}"}
        for i, (path, o) in enumerate(safe_metadata.members(VALUES))
    ]


def test_manifest_points_at_every_data_object_once_from_its_container() -> None:
    entries = _entries()
    root = ET.fromstring(safe_metadata.manifest(VALUES, entries))
    pointers = root.findall(".//informationPackageMap//dataObjectPointer")
    assert [p.get("dataObjectID") for p in pointers] == [e["id"] for e in entries]
    units = {u.get("ID"): u for u in root.iter(f"{XFDU}contentUnit")}
    for entry in entries:
        unit = units[entry["unit"]]
        assert unit.get("unitType") == entry["unit_type"]
        assert unit.get("textInfo") == entry["text_info"]  # absent (None) where the entry has none
    assert units["IMG_Data_Tile1"].find(f"{XFDU}contentUnit/dataObjectPointer") is not None
    objects = root.findall("dataObjectSection/dataObject")
    assert [o.find("byteStream/checksum").text for o in objects] == [e["sha3_256"] for e in entries]
    assert root.find(".//{http://www.esa.int/safe/sentinel/1.1}number").text == "2A"


def test_tile_metadata_writes_one_values_line_per_grid_row() -> None:
    root = ET.fromstring(safe_metadata.render("MTD_TL.xml", VALUES))
    zenith, _ = tile_sun_angles(RECORD)
    rows = root.findall(".//Sun_Angles_Grid/Zenith/Values_List/VALUES")
    assert len(rows) == zenith.shape[0]
    assert np.allclose([float(v) for v in rows[0].text.split()], zenith[0], rtol=1e-5)
    viewing = root.findall(".//Viewing_Incidence_Angles_Grids")
    assert len(viewing) == 2 * safe_metadata.BAND_COUNT
    assert {(v.get("bandId"), v.get("detectorId")) for v in viewing} >= {("0", "4"), ("12", "5")}
    assert root.find(".//HORIZONTAL_CS_CODE").text == f"EPSG:{RECORD.epsg}"


def test_qi_report_lists_its_checks_and_the_html_names_the_product() -> None:
    path = f"GRANULE/{VALUES['granule']}/QI_DATA/GENERAL_QUALITY.xml"
    (obj,) = [o for p, o in safe_metadata.members(VALUES) if p == path]
    root = ET.fromstring(safe_metadata.document(path, obj, VALUES))
    checks = [i.get("id") for i in root.iter("inspection")]
    assert checks == ["Data_Completeness", "Lost_Packets", "Corrupted_Packets"]
    assert root.find(".//parentID").text == VALUES["granule"]
    page = safe_metadata.render("UserProduct_index.html", VALUES).decode()
    assert f"<title>{VALUES['product']}</title>" in page and "{" not in page
