"""The staging collection's catalogue: when it is listed, which products it copies, its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.sample_service import catalog, settings, stac_api, zarr3_catalog
from helpers.sample_service.errors import CatalogueError

TODAY = settings.CURRENT_DATE


def test_listed_today_only() -> None:
    assert zarr3_catalog.records_on(settings.TUTORIAL_DATE) == ()
    assert zarr3_catalog.records_on("2026-07-15") == ()
    today = zarr3_catalog.records_on(TODAY)
    assert today and all(r.collection == zarr3_catalog.S2_L2A_ZARR3 for r in today)
    ids = [c["id"] for c in stac_api.collections_page("http://x", stac_api.EOPF)["collections"]]
    assert zarr3_catalog.S2_L2A_ZARR3 not in ids
    cat = stac_api.eopf_catalogue(TODAY)
    ids = [c["id"] for c in stac_api.collections_page("http://x", cat)["collections"]]
    assert ids[-1] == zarr3_catalog.S2_L2A_ZARR3


def test_same_ids_and_scene_as_current_l2a_products() -> None:
    current = {r.id for r in catalog.products_in(catalog.S2_L2A, TODAY)}
    for record in zarr3_catalog.records_on(TODAY):
        assert record.id in current
        original = catalog.get_product(record.id)
        assert original is not None
        assert (record.utm_origin, record.epsg, record.start_datetime) == (
            original.utm_origin,
            original.epsg,
            original.start_datetime,
        )
        assert record.cpm_version == "cpm_v300"
        path = zarr3_catalog.store_path(record)
        assert path.startswith("data/collections/EOPF_ZARR/products/cpm_v300/S02MSIL2A/")
        assert zarr3_catalog.record_at(path, TODAY) == record
        assert zarr3_catalog.record_at(path, settings.TUTORIAL_DATE) is None
        assert zarr3_catalog.record_at(catalog.product_path(original), TODAY) is None


def _write(tmp_path: Path, **changes: object) -> Path:
    raw = json.loads(zarr3_catalog._FILE.read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / "staging.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ids": ["S2X_NOT_A_PRODUCT"]}, "ids"),
        ({"ids": []}, "ids"),
        ({"listed_from": 20260716}, "listed_from"),
    ],
)
def test_bad_data_file_is_one_line(tmp_path: Path, changes: dict, field: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        zarr3_catalog.load_staging(_write(tmp_path, **changes))
    assert caught.value.field == field and "\n" not in str(caught.value)
