"""Swath gridding on analytic fields: what linear interpolation must reproduce exactly.

The synthetic swath is a 1 km grid of 60 x 80 pixels, rotated by 20 degrees, laid out in UTM
zone 32N (around 11 E, 45 N) and converted to latitude/longitude, as a Sentinel-1 OCN swath
would arrive (dims azimuth/range, float32 positions and values).
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import rioxarray  # noqa: F401 (registers the .rio accessor)
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import griddata
from scipy.spatial import ConvexHull

from helpers import gridding
from helpers.errors import EOPFBookError
from helpers.gridding import GriddingError, SwathGrid, swath_to_grid, utm_crs_for

UTM32 = pyproj.CRS.from_epsg(32632)
WGS84 = pyproj.CRS.from_epsg(4326)
DIMS = ("azimuth", "range")


def _swath(shape: tuple[int, int] = (60, 80), angle_deg: float = 20.0) -> xr.Dataset:
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    angle = np.deg2rad(angle_deg)
    east, north = (cols - shape[1] / 2) * 1000.0, (rows - shape[0] / 2) * 1000.0
    x = 700_000.0 + east * np.cos(angle) - north * np.sin(angle)
    y = 4_985_000.0 + east * np.sin(angle) + north * np.cos(angle)
    lon, lat = pyproj.Transformer.from_crs(UTM32, WGS84, always_xy=True).transform(x, y)
    return xr.Dataset(
        coords={
            "latitude": (DIMS, lat, {"units": "degrees_north"}),
            "longitude": (DIMS, lon, {"units": "degrees_east"}),
        }
    )


def _with(ds: xr.Dataset, name: str, values: np.ndarray, **attrs: object) -> xr.Dataset:
    return ds.assign({name: (DIMS, values, attrs)})


def _projected(ds: xr.Dataset, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    to_grid = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    return to_grid.transform(ds.longitude.values, ds.latitude.values)


def _grid_xy(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    y_name, x_name = da.dims
    return np.meshgrid(da[x_name].values, da[y_name].values)


@pytest.fixture(scope="module")
def swath() -> xr.Dataset:
    return _swath()


def test_linear_field_in_lonlat_is_reproduced(swath):
    field = 3.0 * swath.longitude + 2.0 * swath.latitude - 5.0
    grid = SwathGrid.from_swath(swath.latitude, swath.longitude, crs="EPSG:4326", resolution=0.01)
    result = grid.interpolate(field.rename("f"))
    lon, lat = _grid_xy(result)
    inside = np.isfinite(result.values)
    assert result.dims == ("latitude", "longitude")
    assert inside.sum() > 2000
    np.testing.assert_allclose(result.values[inside], (3 * lon + 2 * lat - 5)[inside], atol=1e-9)


def test_linear_field_in_metres_is_reproduced_on_the_utm_grid(swath):
    x, y = _projected(swath, UTM32)
    ds = _with(swath, "f", 0.002 * x - 0.001 * y + 7.0)
    result = swath_to_grid(ds, "f", crs="utm", resolution=500)["f"]
    assert pyproj.CRS.from_wkt(result.spatial_ref.attrs["crs_wkt"]) == UTM32
    gx, gy = _grid_xy(result)
    inside = np.isfinite(result.values)
    assert result.dims == ("y", "x")
    assert inside.sum() > 10_000
    np.testing.assert_allclose(
        result.values[inside], (0.002 * gx - 0.001 * gy + 7)[inside], atol=1e-7
    )
    assert np.all(np.diff(result.y) == -500) and np.all(np.diff(result.x) == 500)


def test_cells_outside_the_hull_are_nan_and_inside_are_not(swath):
    ds = _with(swath, "f", np.ones(swath.latitude.shape))
    result = swath_to_grid(ds, "f", crs="utm", resolution=700)["f"]
    x, y = _projected(swath, UTM32)
    hull = ConvexHull(np.column_stack([x.ravel(), y.ravel()]))
    gx, gy = _grid_xy(result)
    distance = (hull.equations @ np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)])).max(axis=0)
    values = result.values.ravel()
    clearly_inside, clearly_outside = distance < -1.0, distance > 1.0  # 1 m from the outline
    assert clearly_inside.sum() > 1000 and clearly_outside.sum() > 1000
    np.testing.assert_allclose(values[clearly_inside], 1.0, rtol=1e-12)
    assert np.all(np.isnan(values[clearly_outside]))


@pytest.mark.parametrize("crs", ["utm", "laea", "EPSG:3035", "EPSG:4326", 32633])
def test_the_crs_round_trips_through_the_attributes(swath, crs):
    ds = _with(swath, "f", np.zeros(swath.latitude.shape))
    resolution = 0.02 if crs == "EPSG:4326" else 2000
    result = swath_to_grid(ds, crs=crs, resolution=resolution)["f"]
    attrs = result.spatial_ref.attrs
    expected = {"utm": UTM32}.get(crs) if isinstance(crs, str) else None
    if crs not in ("utm", "laea"):
        expected = pyproj.CRS.from_user_input(crs)
    written = pyproj.CRS.from_wkt(attrs["crs_wkt"])
    if expected is not None:
        assert written == expected
    else:  # laea: centred on the swath
        cf = written.to_cf()
        assert cf["grid_mapping_name"] == "lambert_azimuthal_equal_area"
        assert abs(cf["longitude_of_projection_origin"] - float(swath.longitude.mean())) < 0.5
    assert pyproj.CRS.from_cf(attrs) == written
    assert result.attrs["grid_mapping"] == "spatial_ref"
    assert result.rio.crs == written  # rioxarray (GDAL) reads it too


def test_coordinate_attributes_say_what_the_axes_are(swath):
    ds = _with(swath, "f", np.zeros(swath.latitude.shape))
    projected = swath_to_grid(ds, crs="utm", resolution=2000)
    assert projected.x.attrs["standard_name"] == "projection_x_coordinate"
    assert projected.y.attrs["standard_name"] == "projection_y_coordinate"
    assert projected.x.attrs["units"] == projected.y.attrs["units"] == "m"
    geographic = swath_to_grid(ds, crs="EPSG:4326", resolution=0.02)
    assert geographic.longitude.attrs["units"] == "degrees_east"
    assert geographic.latitude.attrs["units"] == "degrees_north"


def test_triangulation_is_built_once_for_several_variables(swath, monkeypatch):
    built = []
    original = gridding.Delaunay

    def counting_delaunay(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(gridding, "Delaunay", counting_delaunay)
    shape = swath.latitude.shape
    ds = swath.assign({name: (DIMS, np.full(shape, i, float)) for i, name in enumerate("abcd")})
    result = swath_to_grid(ds, ["a", "b", "c", "d"], crs="utm", resolution=1000)
    assert len(built) == 1
    assert set(result.data_vars) == {"a", "b", "c", "d"}
    assert float(result["c"].max()) == pytest.approx(2.0)


def test_matches_griddata_per_variable_on_the_same_grid(swath):
    rng = np.random.default_rng(1)
    values = rng.normal(size=swath.latitude.shape)
    grid = SwathGrid.from_swath(swath.latitude, swath.longitude, crs="EPSG:4326", resolution=0.01)
    ours = grid.interpolate(values)
    lon, lat = _grid_xy(ours)
    points = np.column_stack([swath.longitude.values.ravel(), swath.latitude.values.ravel()])
    theirs = griddata(points, values.ravel(), (lon, lat), method="linear")
    both = np.isfinite(ours.values) & np.isfinite(theirs)
    assert both.sum() > 2000
    np.testing.assert_allclose(ours.values[both], theirs[both], atol=1e-9)
    disagree = np.isfinite(ours.values) != np.isfinite(theirs)
    assert disagree.sum() <= 0.001 * disagree.size  # at most cells on the outline itself


def test_circular_interpolation_of_350_and_10_degrees_gives_north(swath):
    shape = swath.latitude.shape
    direction = np.where(np.arange(shape[1]) < shape[1] // 2, 350.0, 10.0) * np.ones(shape)
    ds = _with(swath, "wind_direction", direction, units="degrees")
    grid = SwathGrid.from_swath(ds.latitude, ds.longitude, crs="utm", resolution=300)
    circular = grid.interpolate(ds.wind_direction, circular=True).values
    linear = grid.interpolate(ds.wind_direction).values
    valid = circular[np.isfinite(circular)]
    assert np.all((valid >= 0) & (valid < 360))
    off_north = np.minimum(valid, 360 - valid)
    assert off_north.max() <= 10.0 + 1e-6
    assert np.any(off_north < 1.0)  # cells halfway between the two halves
    assert np.nanmax(np.minimum(linear, 360 - linear)) > 90  # the trap circular=True avoids


def test_fill_values_are_missing_not_data(swath):
    x, y = _projected(swath, UTM32)
    field = 0.001 * x + 0.002 * y
    filled, nan = field.copy(), field.copy()
    filled[20:25, 30:40] = -999.0
    nan[20:25, 30:40] = np.nan
    grid = SwathGrid.from_swath(swath.latitude, swath.longitude, crs="utm", resolution=500)
    declared = xr.DataArray(filled.astype("f4"), dims=DIMS, attrs={"_FillValue": -999.0})
    in_eopf_attrs = xr.DataArray(filled, dims=DIMS, attrs={"_eopf_attrs": {"fill_value": -999}})
    reference = grid.interpolate(nan.astype("f4")).values
    assert np.isnan(reference).sum() > np.isnan(grid.interpolate(field).values).sum()
    for result in (
        grid.interpolate(declared),
        grid.interpolate(in_eopf_attrs),
        grid.interpolate(filled, fill_value=-999.0),
    ):
        np.testing.assert_allclose(result.values, reference, rtol=1e-6)
        assert np.nanmin(result.values) > 0


def test_invalid_positions_are_dropped_before_triangulating():
    ds = _swath()
    lat = ds.latitude.values.copy()
    lon = ds.longitude.values.copy()
    lat[:5, :5] = np.nan
    lon[-3:, :] = -999.0
    ds = ds.assign_coords(latitude=(DIMS, lat), longitude=(DIMS, lon))
    valid = np.isfinite(lat) & (lon > -180)
    x, y = pyproj.Transformer.from_crs(WGS84, UTM32, always_xy=True).transform(lon, lat)
    ds = _with(ds, "f", np.where(valid, 0.001 * x + 0.003 * y, 0.0))
    grid = SwathGrid.from_swath(ds.latitude, ds.longitude, crs="utm", resolution=800)
    assert grid.triangulation.npoints == valid.sum()
    result = grid.interpolate(ds.f)
    gx, gy = _grid_xy(result)
    inside = np.isfinite(result.values)
    np.testing.assert_allclose(result.values[inside], (0.001 * gx + 0.003 * gy)[inside], rtol=1e-9)


def test_attributes_names_and_dtype_are_kept(swath):
    ds = _with(
        swath,
        "wind_speed",
        np.full(swath.latitude.shape, 5.0, "f4"),
        units="m/s",
        coordinates="latitude longitude",
        _FillValue=-999.0,
        _eopf_attrs={"long_name": "SAR wind speed", "fill_value": -999.0},
    )
    result = swath_to_grid(ds, crs="utm", resolution=1000)["wind_speed"]
    assert result.name == "wind_speed"
    assert result.dtype == np.float32
    assert result.attrs["units"] == "m/s"
    assert result.attrs["long_name"] == "SAR wind speed"
    for storage in ("coordinates", "_FillValue", "_eopf_attrs"):
        assert storage not in result.attrs


def test_default_resolution_is_the_swath_spacing(swath):
    grid = SwathGrid.from_swath(swath.latitude, swath.longitude)
    assert grid.crs == UTM32
    assert 900.0 <= grid.resolution <= 1100.0


def test_bounds_limit_the_grid(swath):
    grid = SwathGrid.from_swath(
        swath.latitude,
        swath.longitude,
        resolution=1000,
        bounds=(690_000, 4_970_000, 710_000, 4_990_000),
    )
    assert grid.shape == (20, 20)
    assert grid.x.min() > 690_000 and grid.x.max() < 710_000


def test_cell_lonlat_round_trips_to_the_grid(swath):
    grid = SwathGrid.from_swath(swath.latitude, swath.longitude, resolution=2000)
    lon, lat = grid.cell_lonlat()
    assert lon.dims == lat.dims == ("y", "x")
    x, y = pyproj.Transformer.from_crs(WGS84, grid.crs, always_xy=True).transform(lon, lat)
    gx, gy = np.meshgrid(grid.x, grid.y)
    np.testing.assert_allclose(x, gx, atol=1e-3)
    np.testing.assert_allclose(y, gy, atol=1e-3)


def test_wind_vectors_follow_the_meteorological_convention(swath):
    shape = swath.latitude.shape
    grid = SwathGrid.from_swath(swath.latitude, swath.longitude, crs="EPSG:4326", resolution=0.02)
    speed = grid.interpolate(np.full(shape, 10.0))
    from_north = grid.wind_vectors(speed, grid.interpolate(np.zeros(shape)))
    from_east = grid.wind_vectors(speed, grid.interpolate(np.full(shape, 90.0)))
    ok = np.isfinite(from_north.u.values)
    np.testing.assert_allclose(from_north.u.values[ok], 0.0, atol=1e-9)
    np.testing.assert_allclose(from_north.v.values[ok], -10.0)  # blows towards the south
    np.testing.assert_allclose(from_east.u.values[ok], -10.0)
    np.testing.assert_allclose(from_east.v.values[ok], 0.0, atol=1e-9)


def test_wind_vectors_are_rotated_into_grid_axes(swath):
    shape = swath.latitude.shape
    grid = SwathGrid.from_swath(swath.latitude, swath.longitude, crs="utm", resolution=1000)
    speed = grid.interpolate(np.full(shape, 10.0))
    to_north = grid.wind_vectors(speed, grid.interpolate(np.zeros(shape)), step=4, convention="to")
    assert to_north.u.shape == (grid.shape[0] // 4, grid.shape[1] // 4)
    ok = np.isfinite(to_north.u.values)
    np.testing.assert_allclose(np.hypot(to_north.u, to_north.v).values[ok], 10.0)
    # East of the central meridian (9 E) true north leans west of grid north, by about
    # (lon - 9) * sin(lat): the meridian convergence PROJ reports.
    lon, lat = pyproj.Transformer.from_crs(grid.crs, WGS84, always_xy=True).transform(
        *np.meshgrid(to_north.x, to_north.y)
    )
    factors = pyproj.Proj(grid.crs).get_factors(lon, lat)
    angle = np.degrees(np.arctan2(to_north.u.values, to_north.v.values))
    assert np.all(angle[ok] < 0)
    np.testing.assert_allclose(-angle[ok], np.abs(factors.meridian_convergence[ok]), atol=0.01)


def test_utm_zone_is_chosen_from_the_position():
    assert utm_crs_for(11.0, 45.0).to_epsg() == 32632
    assert utm_crs_for(-20.0, 40.0).to_epsg() == 32627
    assert utm_crs_for(151.0, -33.0).to_epsg() == 32756


def test_works_on_a_datatree_node(swath):
    ds = _with(swath, "f", np.ones(swath.latitude.shape))
    tree = xr.DataTree.from_dict({"/owi/measurements": ds})
    result = swath_to_grid(tree["/owi/measurements"], crs="utm", resolution=2000)
    assert list(result.data_vars) == ["f"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ds: swath_to_grid(ds, ["nope"], resolution=1000), "No variable 'nope'"),
        (lambda ds: swath_to_grid(ds, crs="EPSG:99999", resolution=1000), "Unknown CRS"),
        (lambda ds: swath_to_grid(ds, resolution=0.001), "coarser resolution"),
        (lambda ds: swath_to_grid(ds, resolution=-5), "positive"),
        (lambda ds: swath_to_grid(ds, latitude="lat"), "No 'lat'"),
        (
            lambda ds: SwathGrid.from_swath(ds.latitude, ds.longitude[:, :5], resolution=1000),
            "same shape",
        ),
        (
            lambda ds: SwathGrid.from_swath(ds.latitude, ds.longitude, resolution=1000).interpolate(
                ds.f.rename(azimuth="rows")
            ),
            "dims",
        ),
        (
            lambda ds: SwathGrid.from_swath(ds.latitude * np.nan, ds.longitude, resolution=1),
            "fewer than 3",
        ),
    ],
)
def test_reader_errors_are_one_line(swath, call, message):
    ds = _with(swath, "f", np.ones(swath.latitude.shape))
    with pytest.raises(GriddingError, match=message) as caught:
        call(ds)
    assert isinstance(caught.value, EOPFBookError)
    assert "\n" not in str(caught.value)


def test_antimeridian_swath_needs_a_projected_grid():
    rows, cols = np.meshgrid(np.arange(20), np.arange(30), indexing="ij")
    lon = (179.5 + cols * 0.05 + 180) % 360 - 180
    lat = 10 + rows * 0.05
    coords = {"latitude": (DIMS, lat), "longitude": (DIMS, lon)}
    ds = xr.Dataset({"f": (DIMS, np.ones(lat.shape))}, coords=coords)
    with pytest.raises(GriddingError, match="antimeridian"):
        swath_to_grid(ds, crs="EPSG:4326", resolution=0.05)
    projected = swath_to_grid(ds, crs="utm", resolution=5000)["f"]
    assert np.nansum(projected.values) > 10


def test_batching_does_not_change_the_result(swath, monkeypatch):
    x, y = _projected(swath, UTM32)
    values = np.sin(x / 7000.0) + np.cos(y / 5000.0)
    whole = SwathGrid.from_swath(swath.latitude, swath.longitude, resolution=400)
    monkeypatch.setattr(gridding, "_BLOCK", 300)
    batched = SwathGrid.from_swath(swath.latitude, swath.longitude, resolution=400)
    assert batched.cells_in_swath == whole.cells_in_swath > 10_000
    np.testing.assert_array_equal(batched.interpolate(values), whole.interpolate(values))


def test_triangulation_points_are_the_projected_swath(swath):
    grid = SwathGrid.from_swath(swath.latitude, swath.longitude, resolution=1000)
    x, y = _projected(swath, UTM32)
    points = grid.triangulation.points + grid.origin
    np.testing.assert_allclose(points, np.column_stack([x.ravel(), y.ravel()]), atol=1e-6)


@settings(max_examples=12, deadline=None)
@given(
    angle=st.floats(-80.0, 80.0),
    a=st.floats(-5.0, 5.0),
    b=st.floats(-5.0, 5.0),
    resolution=st.sampled_from([250.0, 700.0, 1500.0]),
)
def test_any_linear_field_on_any_tilted_swath_is_reproduced(angle, a, b, resolution):
    small = _swath((20, 30), angle_deg=angle)
    x, y = _projected(small, UTM32)
    field = _with(small, "f", a * (x - 700_000) / 1000 + b * (y - 4_985_000) / 1000 + 1.0)
    result = swath_to_grid(field, crs="EPSG:32632", resolution=resolution)["f"]
    gx, gy = _grid_xy(result)
    expected = a * (gx - 700_000) / 1000 + b * (gy - 4_985_000) / 1000 + 1.0
    inside = np.isfinite(result.values)
    assert inside.sum() >= 20 * 30 * (1000 / resolution) ** 2 * 0.5
    np.testing.assert_allclose(result.values[inside], expected[inside], atol=1e-8)


def test_default_variables_are_those_on_the_swath_dims(swath):
    ds = swath.reset_coords()  # latitude/longitude as data variables, as some groups hold them
    ds = _with(ds, "wind_speed", np.ones(swath.latitude.shape))
    ds = ds.assign(scalar=((), 1.0), other=(("t",), [1.0, 2.0]))
    result = swath_to_grid(ds, crs="utm", resolution=2000)
    assert list(result.data_vars) == ["wind_speed"]
