"""One solar-position model: the SAFE and Zarr copies of one acquisition agree on the sun."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from helpers.sample_service import catalog, products, safe_metadata, scenes, settings
from helpers.sample_service.solar import solar_angles, tile_sun_angles

RECORD = catalog.get_product(settings.SAFE_PRODUCT_ID)


def _safe_sun() -> tuple[np.ndarray, np.ndarray, float, float]:
    """Sun grids and means as the SAFE archive's MTD_TL.xml states them."""
    root = ET.fromstring(safe_metadata.render("MTD_TL.xml", safe_metadata.product_values(RECORD)))
    grid = root.find(".//Sun_Angles_Grid")

    def values(tag: str) -> np.ndarray:
        rows = grid.findall(f"{tag}/Values_List/VALUES")
        return np.array([[float(v) for v in row.text.split()] for row in rows])

    mean = root.find(".//Mean_Sun_Angle")
    return (
        values("Zenith"),
        values("Azimuth"),
        float(mean.findtext("ZENITH_ANGLE")),
        float(mean.findtext("AZIMUTH_ANGLE")),
    )


def _zarr_sun() -> tuple[np.ndarray, dict]:
    """The Zarr store's conditions/geometry/sun_angles array and its root attributes."""
    zmetadata = products.build_zmetadata(RECORD)
    spec = products.array_specs(zmetadata)["conditions/geometry/sun_angles"]
    values = scenes.chunk_values(RECORD, spec, (0,) * len(spec.shape))
    return values, zmetadata["metadata"][".zattrs"]["other_metadata"]


def test_safe_and_zarr_copies_of_one_acquisition_agree_on_sun_angles() -> None:
    zenith, azimuth, mean_zenith, mean_azimuth = _safe_sun()
    zarr_angles, other = _zarr_sun()
    assert zarr_angles.shape == (2, 23, 23)
    # The XML writes six significant digits; the arrays hold the same model's values.
    np.testing.assert_allclose(zenith, zarr_angles[0], atol=1e-3)
    np.testing.assert_allclose(azimuth, zarr_angles[1], atol=1e-3)
    assert mean_zenith == pytest.approx(
        other["mean_sun_zenith_angle_in_deg_for_all_bands_all_detectors"], abs=1e-6
    )
    assert mean_azimuth == pytest.approx(
        other["mean_sun_azimuth_angle_in_deg_for_all_bands_all_detectors"], abs=1e-6
    )


def test_tile_sun_angles_are_plausible_for_an_arctic_june_morning() -> None:
    zenith, azimuth = tile_sun_angles(RECORD)
    # 70 N, 5 June, 10:47 UTC at 27 E (about 12:35 local solar time): sun high in the south.
    assert 45 < zenith.mean() < 50
    assert 170 < azimuth.mean() < 200
    assert zenith.std() > 0.1  # a grid, not one value


def test_solar_angles_at_a_known_moment() -> None:
    # Equinox noon on the equator at Greenwich: the sun is nearly overhead.
    zenith, _ = solar_angles(0.0, 0.0, dt.datetime(2025, 3, 20, 12, 7, tzinfo=dt.UTC))
    assert float(zenith) < 1.0
    zenith, _ = solar_angles(0.0, 0.0, dt.datetime(2025, 3, 20, 0, 7, tzinfo=dt.UTC))
    assert float(zenith) > 179.0
