"""The synthetic scenes are deterministic, physically plausible and self-consistent.

Values are checked as a reader would see them (decoded through the arrays'
scale factors and fill values): within physical ranges, land and sea where
the real land mask puts them, classification and quicklook agreeing with the
reflectances, and resolutions agreeing with each other. Only a few chunks are
generated, so the module stays fast.
"""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
from pyproj import Transformer

from helpers.sample_service import catalog, scenes, zarr_store
from helpers.sample_service.scenes import s3_lfr

S2_TUTORIAL = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
# Nordkapp's coast, wholly inside its orbit's swath (its western neighbour T35WMU holds data
# only in its north-west corner, as the tutorial's published render shows).
S2_COAST = "S2A_MSIL2A_20250605T104701_N0511_R051_T35WNU_20250605T125416"
S2_SWATH_EDGE = "S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416"
OCN_TUTORIAL = "S1A_IW_OCN__2SDV_20250604T193923_20250604T193948_059501_0762FA_C971"
LFR_TUTORIAL = (
    "S3A_OL_2_LFR____20250605T102430_20250605T102730_20250605T122455_0179_126_336_2160_PS1_O_NR_003"
)


def _store(product_id: str) -> zarr_store.ProductStore:
    store = zarr_store.open_store(product_id)
    assert store is not None
    return store


def _values(product_id: str, path: str, index: tuple[int, ...]) -> np.ndarray:
    store = _store(product_id)
    spec = store.array_spec(path)
    assert spec is not None, path
    return scenes.chunk_values(store.record, spec, index)


def _reflectance(product_id: str, res: int, band: str, index: tuple[int, int]) -> np.ndarray:
    """Decoded as xarray decodes it: 0 is no data, then DN x 1e-4 - 0.1."""
    dn = _values(product_id, f"measurements/reflectance/r{res}m/{band}", index)
    return np.where(dn == 0, np.nan, dn * 1e-4 - 0.1)


def test_chunks_are_deterministic_across_scene_instances() -> None:
    first = _values(S2_COAST, "measurements/reflectance/r60m/b11", (2, 3))
    scenes._scenes.clear()  # a new scene object, as in a new process
    again = _values(S2_COAST, "measurements/reflectance/r60m/b11", (2, 3))
    assert first.dtype == np.uint16 and first.shape == (305, 305)
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("product_id", [S2_TUTORIAL, S2_COAST])
def test_every_array_yields_its_first_chunk(product_id: str) -> None:
    store = _store(product_id)
    for path in store.array_paths():
        spec = store.array_spec(path)
        values = scenes.chunk_values(store.record, spec, (0,) * len(spec.shape))
        assert values.dtype == spec.dtype, path
        expected = tuple(min(c, n) for c, n in zip(spec.chunks, spec.shape, strict=True))
        assert values.shape == expected, path


@pytest.mark.parametrize("product_id", [OCN_TUTORIAL, LFR_TUTORIAL])
def test_every_swath_array_yields_its_first_chunk(product_id: str) -> None:
    store = _store(product_id)
    for path in store.array_paths():
        spec = store.array_spec(path)
        values = scenes.chunk_values(store.record, spec, (0,) * len(spec.shape))
        assert values.dtype == spec.dtype, path
        if (
            values.dtype.kind == "f"
            and spec.fill_value is not None
            and not np.isnan(spec.fill_value)
        ):
            assert not np.isnan(values).any(), path  # gaps use the fill value, as stored


def test_reflectances_are_physical_and_textured() -> None:
    for band in ("b02", "b04", "b8a", "b11"):
        rho = _reflectance(S2_COAST, 60, band, (3, 3))
        valid = rho[np.isfinite(rho)]
        assert valid.size > 0.9 * rho.size
        assert valid.min() > -0.05 and valid.max() < 1.2, band
    b08 = _values(S2_COAST, "measurements/reflectance/r10m/b08", (3, 3)).astype(np.float64)
    # Natural texture: neighbours correlate strongly (not white noise), yet vary (not flat).
    lag1 = np.corrcoef(b08[:, :-1].ravel(), b08[:, 1:].ravel())[0, 1]
    assert 0.3 < lag1 < 0.9999 and b08.std() > 50
    encoded = _store(S2_COAST).get("measurements/reflectance/r10m/b08/3.3")
    assert 0.5e6 < len(encoded) < 6.5e6  # "a few MB", like the real chunks


def test_the_tutorial_tile_is_as_cloudy_and_bright_as_published() -> None:
    scl = np.concatenate(
        [
            _values(S2_TUTORIAL, "conditions/mask/l2a_classification/r60m/scl", (i, j))
            for i in (0, 3, 5)
            for j in (0, 2, 5)
        ]
    )
    valid = scl[scl > 0]
    cloudy = np.isin(valid, (8, 9, 10)).mean()
    assert 0.5 < cloudy < 0.9  # the record says 71.4 %
    assert set(np.unique(valid)) <= {3, 6, 7, 8, 9, 10}  # open ocean under clouds
    nir = np.concatenate(
        [_reflectance(S2_TUTORIAL, 60, "b8a", (i, j)) for i in (0, 3, 5) for j in (0, 2, 5)]
    )
    assert 0.35 < np.nanmean(nir) < 0.75  # published whole-scene mean of b08: 0.56
    corner = _values(S2_TUTORIAL, "measurements/reflectance/r10m/b02", (0, 0))
    assert (corner[:10, :5] == 0).all()  # outside the swath, as in the real product


def _chunk_showing(product_id: str, classes: set[int]) -> tuple[int, int]:
    """The first 60 m chunk whose scene classification has all of ``classes``."""
    for index in ((i, j) for i in range(6) for j in range(6)):
        scl = _values(product_id, "conditions/mask/l2a_classification/r60m/scl", index)
        if classes <= set(np.unique(scl)):
            return index
    raise AssertionError(f"no chunk shows all of {classes}")


def test_scl_and_tci_agree_with_the_reflectances() -> None:
    index = _chunk_showing(S2_SWATH_EDGE, {0, 4, 5, 6, 9})  # no data, land, sea and cloud
    scl = _values(S2_SWATH_EDGE, "conditions/mask/l2a_classification/r60m/scl", index)
    assert set(np.unique(scl)) <= set(range(12))
    b02, b04 = (_reflectance(S2_SWATH_EDGE, 60, b, index) for b in ("b02", "b04"))
    b8a = _reflectance(S2_SWATH_EDGE, 60, "b8a", index)
    ndvi = (b8a - b04) / (b8a + b04)
    assert (scl == 6).any() and (scl == 9).any() and np.isin(scl, (4, 5)).any()
    assert np.nanmedian(b8a[scl == 6]) < 0.05  # water is dark in the near infrared
    assert np.nanmin(b02[scl == 9]) > 0.3  # thick cloud is bright
    assert np.nanmedian(ndvi[scl == 4]) > np.nanmedian(ndvi[scl == 5])
    assert (np.isnan(b02) == (scl == 0)).all()  # no data in both, or in neither

    tci = _values(S2_SWATH_EDGE, "quality/l2a_quicklook/r60m/tci", (0, *index))
    assert tci.shape == (1, 305, 305)
    for band_index, band in enumerate(("b04", "b03", "b02")):
        rho = _reflectance(S2_SWATH_EDGE, 60, band, index)
        expected = np.where(np.isnan(rho), 0, np.clip(np.rint(1 + rho * 1016), 1, 255))
        layer = _values(S2_SWATH_EDGE, "quality/l2a_quicklook/r60m/tci", (band_index, *index))[0]
        np.testing.assert_array_equal(layer, expected)


def test_resolutions_agree() -> None:
    fine = _reflectance(S2_COAST, 10, "b04", (3, 3))
    coarse = _reflectance(S2_COAST, 20, "b04", (3, 3)).ravel()  # the same ground
    means = np.nanmean(fine.reshape(915, 2, 915, 2), axis=(1, 3)).ravel()
    both = np.isfinite(coarse) & np.isfinite(means)
    assert np.corrcoef(coarse[both], means[both])[0, 1] > 0.95
    assert np.nanmedian(np.abs(coarse[both] - means[both])) < 0.01


def test_land_and_sea_follow_the_real_land_mask() -> None:
    from global_land_mask import globe

    record = catalog.get_product(S2_COAST)
    scl = np.block(
        [
            [
                _values(S2_COAST, "conditions/mask/l2a_classification/r60m/scl", (i, j))
                for j in range(6)
            ]
            for i in range(6)
        ]
    )
    rows, cols = np.nonzero(np.isin(scl, (4, 5, 6, 11)))  # clear pixels
    pick = np.random.default_rng(0).choice(rows.size, 3000, replace=False)
    rows, cols = rows[pick], cols[pick]
    x = record.utm_origin[0] + 60 * cols + 30
    y = record.utm_origin[1] - 60 * rows - 30
    lon, lat = Transformer.from_crs(record.epsg, 4326, always_xy=True).transform(x, y)
    offsets = np.array([-0.03, 0.0, 0.03])
    around = [globe.is_land(lat + dy, lon + dx * 3) for dy in offsets for dx in offsets]
    sure_land, sure_sea = np.all(around, axis=0), ~np.any(around, axis=0)
    classes = scl[rows, cols]
    assert sure_land.sum() > 100 and sure_sea.sum() > 100
    assert (classes[sure_sea] == 6).mean() > 0.97
    assert np.isin(classes[sure_land], (4, 5, 11, 6)).all()
    assert (classes[sure_land] != 6).mean() > 0.88  # a few lakes inland
    # The crop the scenes read from the package's data file is the package's mask.
    np.testing.assert_array_equal(
        scenes.read_land_mask(2300, 2420, 24_700, 25_100), ~globe._mask[2300:2421, 24_700:25_101]
    )


def test_quicklook_is_the_stored_quicklook() -> None:
    record = catalog.get_product(S2_SWATH_EDGE)
    quicklook = scenes.quicklook_tci(record, 60)
    assert quicklook.shape == (3, 1830, 1830) and quicklook.dtype == np.uint8
    store = _store(S2_SWATH_EDGE)
    for band, row, col in ((0, 0, 0), (2, 5, 5), (1, 2, 4)):
        encoded = store.get(f"quality/l2a_quicklook/r60m/tci/{band}.{row}.{col}")
        stored = np.frombuffer(numcodecs.Blosc().decode(encoded), dtype=np.uint8)
        window = quicklook[band, row * 305 : (row + 1) * 305, col * 305 : (col + 1) * 305]
        np.testing.assert_array_equal(stored.reshape(305, 305), window)
    assert (quicklook == 0).any() and (quicklook == 255).any()  # no data and bright cloud


def test_quicklook_refuses_what_it_cannot_make() -> None:
    with pytest.raises(ValueError, match="10, 20 or 60"):
        scenes.quicklook_tci(catalog.get_product(S2_COAST), 30)
    with pytest.raises(ValueError, match="not a Sentinel-2"):
        scenes.quicklook_tci(catalog.get_product(OCN_TUTORIAL), 60)


def test_s2_angles_and_meteorology_are_plausible() -> None:
    sun = _values(S2_TUTORIAL, "conditions/geometry/sun_angles", (0, 0, 0))
    assert sun[0].min() > 15 and sun[0].max() < 35  # late May, 41 N, near local noon
    assert sun[1].min() > 100 and sun[1].max() < 200
    view = _values(S2_TUTORIAL, "conditions/geometry/viewing_incidence_angles", (0, 0, 0, 0, 0))
    assert np.isfinite(view).any() and np.nanmax(view[:, :, 0]) < 12
    detectors = _values(S2_TUTORIAL, "conditions/mask/detector_footprint/r60m/b01", (0, 0))
    assert set(np.unique(detectors)) <= set(range(13)) and (detectors == 0).any()
    names = _values(S2_TUTORIAL, "conditions/geometry/band", (0,))
    assert list(names[:3]) == ["b01", "b02", "b03"] and names.dtype == np.dtype("<U3")
    aod = _values(S2_TUTORIAL, "conditions/meteorology/cams/aod550", (0, 0))
    assert ((aod > 0) & (aod < 1)).all()
    lats = _values(S2_TUTORIAL, "conditions/meteorology/cams/latitude", (0,))
    assert (np.diff(lats) < 0).all()  # stored north to south


def test_ocn_winds_are_smooth_and_within_range() -> None:
    group = catalog.get_product(OCN_TUTORIAL).component_group
    owi = f"owi/{group}"
    speed = _values(OCN_TUTORIAL, f"{owi}/measurements/wind_speed", (0, 0))
    direction = _values(OCN_TUTORIAL, f"{owi}/measurements/wind_direction", (0, 0))
    mask = _values(OCN_TUTORIAL, f"{owi}/conditions/mask", (0, 0))
    gaps = speed == -999.0
    assert (gaps == (direction == -999.0)).all() and (gaps == (mask != 0)).all()
    assert 0 < gaps.sum() < 0.05 * gaps.size
    assert ((speed[~gaps] > 0) & (speed[~gaps] < 30)).all()
    assert ((direction[~gaps] >= 0) & (direction[~gaps] < 360)).all()
    assert np.abs(np.diff(direction, axis=1))[~gaps[:, 1:] & ~gaps[:, :-1]].max() < 5
    lat = _values(OCN_TUTORIAL, f"{owi}/measurements/latitude", (0, 0))
    lon = _values(OCN_TUTORIAL, f"{owi}/measurements/longitude", (0, 0))
    corners = catalog.get_product(OCN_TUTORIAL).swath_corners
    assert (lon[0, 0], lat[0, 0]) == pytest.approx(corners[0], abs=1e-4)
    assert (lon[-1, -1], lat[-1, -1]) == pytest.approx(corners[2], abs=1e-4)
    times = _values(OCN_TUTORIAL, f"rvl/{group}/conditions/zero_doppler_time", (0, 0, 0, 0))
    assert b"".join(times[0, 0, :, 0]).decode() == "2025-06-04T19:39:23.099186"


def test_lfr_land_products_are_valid_only_over_clear_land() -> None:
    gifapar = _values(LFR_TUTORIAL, "measurements/gifapar", (1, 2))  # France and the Channel
    flags = _values(LFR_TUTORIAL, "quality/lqsf", (1, 2))
    land, water, cloud = (flags & 4) > 0, (flags & 2) > 0, (flags & 8) > 0
    assert land.any() and water.any() and (land ^ water).all()
    valid = gifapar != 255.0
    assert (valid == (land & ~cloud)).all()
    assert ((gifapar[valid] >= 0) & (gifapar[valid] <= 1)).all()
    otci = _values(LFR_TUTORIAL, "measurements/otci", (1, 2))
    assert ((otci != 255.0) == valid).all() and ((otci[valid] > 0) & (otci[valid] < 7)).all()
    iwv = _values(LFR_TUTORIAL, "measurements/iwv", (1, 2))
    assert ((iwv > 0) & (iwv < 70)).all()
    ocean = _values(LFR_TUTORIAL, "measurements/gifapar", (2, 0))  # the Bay of Biscay
    assert (ocean == 255.0).all()
    lat = _values(LFR_TUTORIAL, "measurements/latitude", (0, 0))
    lon = _values(LFR_TUTORIAL, "measurements/longitude", (0, 0))
    assert (lat[0, 0], lon[0, 0]) == pytest.approx((52.45365, -9.244943), abs=1e-6)
    tie_lat = _values(LFR_TUTORIAL, "conditions/geometry/latitude", (0, 0))
    np.testing.assert_allclose(tie_lat[:1024, :16], lat[:, ::64][:, :16])


def test_lfr_tutorial_scene_is_clear_where_the_published_render_shows_ground() -> None:
    """The tutorial's published GIFAPAR render has its valid pixels over northern Spain and
    cloud over most of the rest; the record's ``clear_box`` puts the scene's clear share
    there. Without it the clear share would be spread evenly (about the same inside and
    outside the box), so this fails if the box stops steering the clouds."""
    record = catalog.get_product(LFR_TUTORIAL)
    scene = scenes.scene_for(record)
    rows = np.linspace(0, scene.rows - 1, 128).astype(int)
    cols = np.linspace(0, scene.cols - 1, 128).astype(int)
    lon, lat = scene.lonlat(rows, cols)
    opaque = scene.cloud_field(lon, lat) >= scene.cloud_start + s3_lfr.CLOUDY * 0.35
    west, south, east, north = record.scene["clear_box"]
    in_box = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    clear_inside, clear_outside = (~opaque)[in_box].mean(), (~opaque)[~in_box].mean()
    assert clear_inside > 0.3
    assert clear_inside > 5 * clear_outside
