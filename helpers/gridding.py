"""Put a satellite swath on a regular map grid: triangulate once, interpolate every variable.

Why this module exists: Sentinel-1 OCN (``azimuth`` x ``range``) and Sentinel-3 OLCI
(``rows`` x ``columns``) measurements are not on a map grid; each pixel carries its own latitude
and longitude. To draw them as a map they must be interpolated onto regular cells. The tutorial
this book grows from does so twice with copied ``scipy.interpolate.griddata`` code, which also
rebuilds the Delaunay triangulation of the swath for every variable. Here the triangulation, and
where each grid cell falls in it, are computed once per swath; each further variable is then a
weighted sum of three swath pixels.

Two kinds of grid:

* projected (the default, ``crs="utm"``): the swath's own UTM zone chosen from its centre, or
  ``"laea"`` (an equal-area projection centred on the swath), or any CRS pyproj understands.
  Cells are square in metres, so areas and distances on the map mean what they look like.
* geographic (``crs="EPSG:4326"``), as the tutorial does: ``resolution`` is in degrees and a
  cell is narrower than it is tall away from the equator.

Interpolation is linear on the triangles (the same as ``griddata(method="linear")``). A grid
cell is NaN outside the swath, and wherever a corner of its triangle is missing. Angles such as
wind direction must be interpolated with ``circular=True``: halfway between 350 and 10 degrees
is 0 (north), not 180 (south).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pyproj
import xarray as xr
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from scipy.spatial import Delaunay, QhullError

from .errors import EOPFBookError

CrsLike = str | int | pyproj.CRS
GEOGRAPHIC = pyproj.CRS.from_epsg(4326)
"""The CRS of swath latitude/longitude (WGS 84), and the tutorial's lon/lat grid."""

MAX_CELLS = 40_000_000
"""Refuse grids larger than this: a typo in ``resolution`` should not exhaust memory."""

_BLOCK = 1 << 20  # grid cells located per step, to bound temporary memory

# Swath attributes that describe the swath's storage, not the quantity; a gridded variable
# must not carry them (a stale "coordinates" attribute would even break xarray's encoding).
_STORAGE_ATTRS = frozenset(
    {
        "coordinates",
        "dimensions",
        "_FillValue",
        "fill_value",
        "missing_value",
        "scale_factor",
        "add_offset",
        "dtype",
        "valid_min",
        "valid_max",
        "_eopf_attrs",
        "eopf_is_masked",
        "eopf_is_scaled",
        "eopf_target_dtype",
    }
)
_DESCRIPTIVE_ATTRS = ("long_name", "standard_name", "units", "short_name")


class GriddingError(EOPFBookError):
    """A swath or grid request that cannot be gridded as asked (says what to change)."""


def utm_crs_for(longitude: float, latitude: float) -> pyproj.CRS:
    """The WGS 84 UTM zone containing a point, looked up in pyproj's EPSG database."""
    if not -80.0 <= latitude <= 84.0:
        raise GriddingError(
            f"UTM does not cover latitude {latitude:.1f}; use crs='laea' or a polar CRS "
            "(e.g. 'EPSG:3413' north, 'EPSG:3031' south)."
        )
    lon = (longitude + 180.0) % 360.0 - 180.0
    found = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, latitude, lon, latitude)
    )
    if not found:
        raise GriddingError(f"No UTM zone found for lon {lon:.3f}, lat {latitude:.3f}.")
    return pyproj.CRS.from_epsg(int(found[0].code))


def _swath_centre(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """Centre of the valid swath points; longitudes averaged as angles (antimeridian-safe)."""
    rad = np.deg2rad(lon)
    centre_lon = math.degrees(math.atan2(np.mean(np.sin(rad)), np.mean(np.cos(rad))))
    return centre_lon, float(np.mean(lat))


def _resolve_crs(crs: CrsLike, lon: np.ndarray, lat: np.ndarray) -> pyproj.CRS:
    if isinstance(crs, str) and crs.lower() in ("utm", "laea"):
        centre_lon, centre_lat = _swath_centre(lon, lat)
        if crs.lower() == "utm":
            return utm_crs_for(centre_lon, centre_lat)
        return pyproj.CRS.from_dict(
            {
                "proj": "laea",
                "lat_0": round(centre_lat, 2),
                "lon_0": round(centre_lon, 2),
                "datum": "WGS84",
                "units": "m",
            }
        )
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise GriddingError(
            f"Unknown CRS {crs!r}: use 'utm', 'laea', an EPSG code such as 'EPSG:4326' "
            "or 'EPSG:3035', or a pyproj.CRS."
        ) from None


def _as_float_array(values: Any) -> np.ndarray:
    data = values.values if isinstance(values, xr.DataArray) else values
    return np.asarray(data, dtype=np.float64)


def _fill_values(da: Any, extra: float | None) -> list[float]:
    """Declared fill values of a variable, wherever EOPF or xarray put them."""
    found: list[Any] = [extra]
    if isinstance(da, xr.DataArray):
        eopf = da.attrs.get("_eopf_attrs") or {}
        for source in (da.attrs, da.encoding, eopf):
            found += [
                source.get("_FillValue"),
                source.get("fill_value"),
                source.get("missing_value"),
            ]
    numbers = []
    for value in found:
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            numbers.append(number)
    return numbers


def _gridded_attrs(da: Any) -> dict[str, Any]:
    """The variable's descriptive attributes (units, long_name, ...), none of its storage ones."""
    if not isinstance(da, xr.DataArray):
        return {}
    attrs = {k: v for k, v in da.attrs.items() if k not in _STORAGE_ATTRS}
    eopf = da.attrs.get("_eopf_attrs") or {}
    for key in _DESCRIPTIVE_ATTRS:  # EOPF keeps some of these only inside _eopf_attrs
        if key not in attrs and key in eopf:
            attrs[key] = eopf[key]
    return attrs


def _axis_coord_attrs(crs: pyproj.CRS) -> tuple[dict[str, str], dict[str, str]]:
    if crs.is_geographic:
        x = {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east"}
        y = {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north"}
    else:
        unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
        units = "m" if unit in ("metre", "meter") else unit
        x = {
            "standard_name": "projection_x_coordinate",
            "long_name": "x coordinate of projection",
            "units": units,
        }
        y = {
            "standard_name": "projection_y_coordinate",
            "long_name": "y coordinate of projection",
            "units": units,
        }
    return {**x, "axis": "X"}, {**y, "axis": "Y"}


class SwathGrid:
    """A regular grid laid over one swath, with the swath's triangulation computed once.

    Build it with :meth:`from_swath`, then call :meth:`interpolate` for every variable of that
    swath (same shape as its latitude/longitude). Grid rows run north to south (``y`` or
    ``latitude`` decreasing), like an image; cell centres sit at odd multiples of half the
    resolution, so grids of different swaths at one resolution line up.
    """

    def __init__(
        self,
        *,
        crs: pyproj.CRS,
        resolution: float,
        x: np.ndarray,
        y: np.ndarray,
        swath_shape: tuple[int, ...],
        swath_dims: tuple[Hashable, ...] | None,
        triangulation: Delaunay,
        origin: np.ndarray,
        cells: np.ndarray,
        vertices: np.ndarray,
        weights: np.ndarray,
    ) -> None:
        self.crs = crs
        self.resolution = resolution
        self.x = x
        self.y = y
        self.swath_shape = swath_shape
        self.swath_dims = swath_dims
        self.triangulation = triangulation
        """The swath's ``scipy.spatial.Delaunay``: its valid pixels in grid CRS coordinates,
        shifted by their mean (``triangulation.points + origin`` gives the coordinates)."""
        self.origin = origin
        self._cells = cells  # flat indices of grid cells inside the swath
        self._vertices = vertices  # flat swath indices of each such cell's triangle corners
        self._weights = weights  # barycentric weights of those corners
        self._lonlat: tuple[xr.DataArray, xr.DataArray] | None = None
        self._spatial_ref: xr.DataArray | None = None

    # --- construction ------------------------------------------------------------------------

    @classmethod
    def from_swath(
        cls,
        latitude: Any,
        longitude: Any,
        *,
        crs: CrsLike = "utm",
        resolution: float | None = None,
        bounds: tuple[float, float, float, float] | None = None,
    ) -> SwathGrid:
        """Triangulate a swath and lay a grid over it.

        ``latitude``/``longitude``: the swath's 2-D coordinates (DataArrays or arrays of one
        shape); NaN, fill values and out-of-range positions are dropped before triangulating.
        ``crs``: ``"utm"`` (default), ``"laea"``, ``"EPSG:4326"`` or any pyproj CRS input.
        ``resolution``: cell size in CRS units (metres, or degrees for a geographic CRS); by
        default the swath's own pixel spacing, to two significant figures.
        ``bounds``: ``(xmin, ymin, xmax, ymax)`` in CRS units to grid only part of the swath.
        """
        lat = _as_float_array(latitude)
        lon = _as_float_array(longitude)
        if lat.shape != lon.shape:
            raise GriddingError(
                f"latitude {lat.shape} and longitude {lon.shape} must have the same shape."
            )
        dims = latitude.dims if isinstance(latitude, xr.DataArray) else None
        valid = (
            np.isfinite(lat)
            & np.isfinite(lon)
            & (np.abs(lat) <= 90.0)
            & (lon >= -180.0)
            & (lon <= 360.0)
        )
        if valid.sum() < 3:
            raise GriddingError("The swath has fewer than 3 valid latitude/longitude points.")
        grid_crs = _resolve_crs(crs, lon[valid], lat[valid])
        gx, gy = _project(grid_crs, lon, lat, valid)
        if grid_crs.is_geographic and np.ptp(gx[valid]) > 180.0:
            raise GriddingError(
                "The swath crosses the antimeridian, which a lon/lat grid cannot hold in one "
                "piece; grid it in a projected CRS instead (crs='utm' or 'laea')."
            )
        if resolution is None:
            resolution = _native_spacing(gx, gy)
        if not (resolution > 0 and math.isfinite(resolution)):
            raise GriddingError(f"resolution must be a positive number, not {resolution!r}.")
        if bounds is None:
            xs, ys = gx[valid], gy[valid]
            bounds = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        x, y = _cell_centres(bounds, resolution, grid_crs)
        flat_valid = np.flatnonzero(valid.ravel())
        points = np.column_stack([gx.ravel()[flat_valid], gy.ravel()[flat_valid]])
        # Shifting to the centre keeps qhull and the barycentric sums well conditioned when
        # coordinates are millions of metres (UTM northings).
        origin = points.mean(axis=0)
        try:
            triangulation = Delaunay(points - origin)
        except QhullError:
            raise GriddingError(
                "The valid swath points are too few or all in a line to triangulate."
            ) from None
        cells, vertices, weights = _locate(triangulation, origin, x, y, resolution)
        return cls(
            crs=grid_crs,
            resolution=float(resolution),
            x=x,
            y=y,
            swath_shape=lat.shape,
            swath_dims=dims,
            triangulation=triangulation,
            origin=origin,
            cells=cells,
            vertices=flat_valid[vertices],
            weights=weights,
        )

    # --- description -------------------------------------------------------------------------

    @property
    def is_geographic(self) -> bool:
        """True for a lon/lat grid (resolution in degrees)."""
        return bool(self.crs.is_geographic)

    @property
    def dims(self) -> tuple[str, str]:
        """``("latitude", "longitude")`` for a geographic grid, else ``("y", "x")``."""
        return ("latitude", "longitude") if self.is_geographic else ("y", "x")

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape (rows, columns)."""
        return (self.y.size, self.x.size)

    @property
    def cells_in_swath(self) -> int:
        """How many grid cells fall inside the swath's outline."""
        return int(self._cells.size)

    def spatial_ref(self) -> xr.DataArray:
        """A CF grid-mapping variable describing the CRS (read by pyproj, rioxarray, GDAL)."""
        if self._spatial_ref is None:
            self._spatial_ref = self._make_spatial_ref()
        return self._spatial_ref.copy()

    def _make_spatial_ref(self) -> xr.DataArray:
        attrs = dict(self.crs.to_cf())
        attrs["spatial_ref"] = attrs["crs_wkt"]  # the name GDAL and rioxarray look for
        epsg = self.crs.to_epsg()
        if epsg is not None:
            attrs["epsg"] = epsg
        res = self.resolution
        attrs["GeoTransform"] = (
            f"{self.x[0] - res / 2!r} {res!r} 0.0 {self.y[0] + res / 2!r} 0.0 {-res!r}"
        )
        return xr.DataArray(0, attrs=attrs)

    def coords(self) -> dict[str, Any]:
        """The grid's coordinates: 1-D x/y (or longitude/latitude) and ``spatial_ref``."""
        x_attrs, y_attrs = _axis_coord_attrs(self.crs)
        y_name, x_name = self.dims
        return {
            y_name: xr.Variable(y_name, self.y, y_attrs),
            x_name: xr.Variable(x_name, self.x, x_attrs),
            "spatial_ref": self.spatial_ref(),
        }

    def cell_lonlat(self) -> tuple[xr.DataArray, xr.DataArray]:
        """Longitude and latitude of every cell centre, 2-D on the grid (e.g. to label a map)."""
        if self._lonlat is None:
            xx, yy = np.meshgrid(self.x, self.y)
            if self.is_geographic:
                lon, lat = xx, yy
            else:
                to_lonlat = pyproj.Transformer.from_crs(self.crs, GEOGRAPHIC, always_xy=True)
                lon, lat = to_lonlat.transform(xx, yy)
            coords = self.coords()
            self._lonlat = (
                xr.DataArray(
                    lon, coords, self.dims, "longitude", {"units": "degrees_east"}
                ).assign_attrs(standard_name="longitude"),
                xr.DataArray(
                    lat, coords, self.dims, "latitude", {"units": "degrees_north"}
                ).assign_attrs(standard_name="latitude"),
            )
        return self._lonlat

    # --- interpolation -----------------------------------------------------------------------

    def interpolate(
        self,
        values: Any,
        *,
        circular: bool = False,
        fill_value: float | None = None,
        name: str | None = None,
    ) -> xr.DataArray:
        """Interpolate one swath variable onto the grid (linear on the swath's triangles).

        ``values``: a DataArray (or array) with the swath's shape. NaN and its declared fill
        values (``_FillValue``/``fill_value``, also inside ``_eopf_attrs``, plus ``fill_value``
        given here) count as missing: cells whose triangle touches one are NaN.
        ``circular=True`` for angles in degrees (e.g. wind direction): the sine and cosine are
        interpolated and recombined, so 350 and 10 average to 0, not 180. Result in [0, 360).
        Returns a DataArray on the grid with the variable's units and names, and ``spatial_ref``.
        """
        data = self._swath_values(values)
        # float32 swaths (Sentinel-1 OCN) stay float32 on the grid; the arithmetic is float64.
        source_dtype = values.dtype if hasattr(values, "dtype") else np.asarray(values).dtype
        dtype = np.result_type(source_dtype, np.float32)
        for fill in _fill_values(values, fill_value):
            data[data == fill] = np.nan
        if circular:
            rad = np.deg2rad(data)
            sin, cos = self._weighted(np.sin(rad)), self._weighted(np.cos(rad))
            gridded = np.rad2deg(np.arctan2(sin, cos)) % 360.0
        else:
            gridded = self._weighted(data)
        attrs = _gridded_attrs(values)
        attrs["grid_mapping"] = "spatial_ref"
        attrs["interpolation"] = (
            "linear on the swath triangulation, of sine and cosine (circular)"
            if circular
            else "linear on the swath triangulation"
        )
        if name is None and isinstance(values, xr.DataArray):
            name = None if values.name is None else str(values.name)
        gridded = gridded.reshape(self.shape).astype(dtype, copy=False)
        return xr.DataArray(gridded, self.coords(), self.dims, name, attrs)

    def _swath_values(self, values: Any) -> np.ndarray:
        if isinstance(values, xr.DataArray) and self.swath_dims is not None:
            if set(values.dims) != set(self.swath_dims):
                raise GriddingError(
                    f"{values.name or 'This variable'} has dims {tuple(values.dims)}, but the "
                    f"swath was triangulated on {tuple(self.swath_dims)}."
                )
            values = values.transpose(*self.swath_dims)
        data = _as_float_array(values).copy()
        if data.shape != self.swath_shape:
            raise GriddingError(
                f"Values of shape {data.shape} do not match the swath's shape {self.swath_shape}."
            )
        return data

    def _weighted(self, data: np.ndarray) -> np.ndarray:
        out = np.full(self.shape[0] * self.shape[1], np.nan)
        corner_values = data.ravel()[self._vertices]
        out[self._cells] = np.einsum("ij,ij->i", corner_values, self._weights)
        return out

    # --- vectors for quiver plots ------------------------------------------------------------

    def wind_vectors(
        self,
        speed: xr.DataArray,
        direction: xr.DataArray,
        *,
        step: int = 1,
        convention: Literal["from", "to"] = "from",
    ) -> xr.Dataset:
        """Grid-aligned vector components ``u``, ``v`` for ``matplotlib``'s ``quiver``.

        ``speed`` and ``direction`` are gridded (outputs of :meth:`interpolate`); direction in
        degrees clockwise from true north, the direction the wind comes *from* (the
        meteorological convention of Sentinel-1 OCN) or goes *to* (``convention="to"``).
        ``step``: average blocks of ``step`` x ``step`` cells, for a readable arrow density.
        ``u``/``v`` point where the wind goes, along the grid's x/y axes: on a projected grid
        they are rotated from east/north by the local angle between grid north and true north.
        """
        if convention not in ("from", "to"):
            raise GriddingError(f"convention must be 'from' or 'to', not {convention!r}.")
        sign = -1.0 if convention == "from" else 1.0
        rad = np.deg2rad(direction)
        east = sign * speed * np.sin(rad)
        north = sign * speed * np.cos(rad)
        y_name, x_name = self.dims
        if step > 1:
            window = {y_name: step, x_name: step}
            east = east.coarsen(window, boundary="trim").mean()
            north = north.coarsen(window, boundary="trim").mean()
        if self.is_geographic:
            u, v = east, north
        else:
            angle = _grid_north_angle(self.crs, east[x_name].values, east[y_name].values)
            cos, sin = np.cos(angle), np.sin(angle)
            u = east * cos + north * sin
            v = -east * sin + north * cos
        units = speed.attrs.get("units", "")
        return xr.Dataset(
            {
                "u": u.assign_attrs(units=units, long_name=f"vector component along {x_name}"),
                "v": v.assign_attrs(units=units, long_name=f"vector component along {y_name}"),
            }
        ).assign_coords(spatial_ref=self.spatial_ref())

    def __repr__(self) -> str:
        unit = "deg" if self.is_geographic else "m"
        return (
            f"<SwathGrid {self.crs.name}: {self.shape[0]} x {self.shape[1]} cells of "
            f"{self.resolution:g} {unit}, {self.cells_in_swath} inside the swath>"
        )


def _project(
    crs: pyproj.CRS, lon: np.ndarray, lat: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Swath positions in the grid CRS (NaN where invalid)."""
    gx = np.full(lon.shape, np.nan)
    gy = np.full(lat.shape, np.nan)
    if crs.equals(GEOGRAPHIC):
        gx[valid], gy[valid] = lon[valid], lat[valid]
    else:
        transformer = pyproj.Transformer.from_crs(GEOGRAPHIC, crs, always_xy=True)
        gx[valid], gy[valid] = transformer.transform(lon[valid], lat[valid])
    return gx, gy


def _native_spacing(gx: np.ndarray, gy: np.ndarray) -> float:
    """Median distance between neighbouring swath pixels, to two significant figures."""
    if gx.ndim != 2 or min(gx.shape) < 2:
        raise GriddingError("Give a resolution: it can only be estimated for a 2-D swath.")
    steps = [np.hypot(np.diff(gx, axis=axis), np.diff(gy, axis=axis)).ravel() for axis in (0, 1)]
    spacing = float(np.nanmean([np.nanmedian(s) for s in steps]))
    if not (spacing > 0 and math.isfinite(spacing)):
        raise GriddingError("Could not estimate the swath's pixel spacing; give a resolution.")
    digits = 1 - math.floor(math.log10(spacing))
    return round(spacing, digits)


def _cell_centres(
    bounds: tuple[float, float, float, float], res: float, crs: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres covering ``bounds``, aligned to multiples of ``res``; y north to south."""
    xmin, ymin, xmax, ymax = bounds
    if not (xmax > xmin and ymax > ymin):
        raise GriddingError(f"bounds must be (xmin, ymin, xmax, ymax) with min < max: {bounds}.")
    i0, i1 = math.floor(xmin / res), math.ceil(xmax / res)
    j0, j1 = math.floor(ymin / res), math.ceil(ymax / res)
    nx, ny = max(i1 - i0, 1), max(j1 - j0, 1)
    if nx * ny > MAX_CELLS:
        unit = "degrees" if crs.is_geographic else "metres"
        raise GriddingError(
            f"A resolution of {res:g} {unit} makes a {ny} x {nx} grid ({nx * ny:,} cells, "
            f"limit {MAX_CELLS:,}); use a coarser resolution or smaller bounds."
        )
    x = (i0 + 0.5 + np.arange(nx)) * res
    y = (j1 - 0.5 - np.arange(ny)) * res
    return x, y


def _locate(
    tri: Delaunay, origin: np.ndarray, x: np.ndarray, y: np.ndarray, res: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each grid cell inside the swath: its flat index, triangle corners and weights.

    Written out rather than left to scipy, for speed: ``LinearNDInterpolator`` (and
    ``griddata``) locate grid points with ``Delaunay.find_simplex``, which first computes the
    barycentric transform of every triangle one LAPACK call at a time (as costly as the
    triangulation), then falls back to a brute-force search for each point inside the
    swath's bounding box but outside its outline. Cell centres lie on a regular lattice, so
    here each triangle instead lists the cells it covers, row by row (a scanline), and
    solves its 2 x 2 barycentric system vectorised. A cell on an edge shared by two
    triangles takes the first; both give the same value, as linear interpolation is
    continuous across edges.
    """
    nx, ny = x.size, y.size
    corners = tri.points[tri.simplices] + origin  # (triangles, 3 corners, xy)
    u = (corners[..., 0] - x[0]) / res  # column index of each corner, fractional
    v = (y[0] - corners[..., 1]) / res  # row index (rows run north to south)
    eps = 1e-9
    j0 = np.maximum(np.ceil(v.min(axis=1) - eps), 0).astype(np.int64)
    j1 = np.minimum(np.floor(v.max(axis=1) + eps), ny - 1).astype(np.int64)
    du, dv = u[:, 1:] - u[:, :1], v[:, 1:] - v[:, :1]  # edges from corner 0 to corners 1, 2
    det = du[:, 0] * dv[:, 1] - du[:, 1] * dv[:, 0]
    flat = np.abs(det) <= 1e-10 * np.max(du**2 + dv**2, axis=1)  # slivers: covered by others
    rows = np.where(flat, 0, np.maximum(j1 - j0 + 1, 0))
    width = np.ceil(np.ptp(u, axis=1)) + 1
    # Triangles in batches of about _BLOCK candidate cells, to bound temporary memory.
    boxes = np.cumsum(rows * width)
    ends = np.searchsorted(boxes, np.arange(_BLOCK, boxes[-1] + _BLOCK, _BLOCK))
    bounds = np.unique(np.concatenate([[0], np.minimum(ends + 1, rows.size), [rows.size]]))
    cells, vertices, weights = [], [], []
    for start, stop in itertools.pairwise(bounds):
        # One entry per (triangle, grid row it crosses), then the columns between its edges.
        t = np.repeat(np.arange(start, stop), rows[start:stop])
        row = j0[t] + _ranks(rows[start:stop])
        lo, hi = _row_span(u[t], v[t], row, eps)
        c0 = np.maximum(np.ceil(lo - eps), 0).astype(np.int64)
        c1 = np.minimum(np.floor(hi + eps), nx - 1).astype(np.int64)
        n = np.maximum(c1 - c0 + 1, 0)
        pair = np.repeat(np.arange(t.size), n)
        t, row, col = t[pair], row[pair], c0[pair] + _ranks(n)
        pu, pv = col - u[t, 0], row - v[t, 0]
        w1 = (pu * dv[t, 1] - pv * du[t, 1]) / det[t]
        w2 = (pv * du[t, 0] - pu * dv[t, 0]) / det[t]
        w0 = 1.0 - w1 - w2
        inside = (w0 >= -eps) & (w1 >= -eps) & (w2 >= -eps)
        cells.append(row[inside] * nx + col[inside])
        vertices.append(tri.simplices[t[inside]])
        weights.append(np.column_stack([w0[inside], w1[inside], w2[inside]]))
    flat_cells, first = np.unique(np.concatenate(cells), return_index=True)
    return flat_cells, np.concatenate(vertices)[first], np.concatenate(weights)[first]


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., n-1 for each n in ``counts``, concatenated (to expand ranges vectorised)."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def _row_span(
    u: np.ndarray, v: np.ndarray, row: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Where each triangle (corners ``u``, ``v``) crosses its grid ``row``: column range."""
    ua, va = u, v
    ub, vb = np.roll(u, -1, axis=1), np.roll(v, -1, axis=1)  # the three edges a -> b
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (row[:, None] - va) / (vb - va)
    crosses = (vb != va) & (frac >= -eps) & (frac <= 1.0 + eps)
    at = ua + np.clip(frac, 0.0, 1.0) * (ub - ua)
    return np.where(crosses, at, np.inf).min(axis=1), np.where(crosses, at, -np.inf).max(axis=1)


def _grid_north_angle(crs: pyproj.CRS, x: np.ndarray, y: np.ndarray) -> xr.DataArray:
    """Angle (radians, clockwise) from the grid's +y axis to true north at each cell centre.

    Measured by stepping 1 arc-second north from each cell and projecting both points: no
    assumption about the projection beyond pyproj's transform.
    """
    xx, yy = np.meshgrid(x, y)
    to_lonlat = pyproj.Transformer.from_crs(crs, GEOGRAPHIC, always_xy=True)
    to_grid = pyproj.Transformer.from_crs(GEOGRAPHIC, crs, always_xy=True)
    lon, lat = to_lonlat.transform(xx, yy)
    nx_, ny_ = to_grid.transform(lon, lat + 1.0 / 3600.0)
    return xr.DataArray(np.arctan2(nx_ - xx, ny_ - yy), dims=("y", "x"), coords={"y": y, "x": x})


def swath_to_grid(
    ds: Any,
    names: str | Sequence[str] | None = None,
    *,
    crs: CrsLike = "utm",
    resolution: float | None = None,
    circular: Iterable[str] = (),
    bounds: tuple[float, float, float, float] | None = None,
    latitude: str = "latitude",
    longitude: str = "longitude",
) -> xr.Dataset:
    """Grid several variables of one swath with a single triangulation.

    ``ds``: a Dataset (or DataTree node) holding the variables and their 2-D ``latitude`` and
    ``longitude``. ``names``: the variables to grid (default: every variable on the swath's
    dims). ``circular``: names of angle variables in degrees (e.g. ``["wind_direction"]``).
    Other arguments as in :meth:`SwathGrid.from_swath`. Returns a Dataset on the grid.
    """
    if isinstance(ds, xr.DataTree):
        ds = ds.to_dataset()
    for coord in (latitude, longitude):
        if coord not in ds.variables:
            raise GriddingError(
                f"No '{coord}' in this dataset; name the swath's coordinates with "
                f"latitude=... and longitude=... (it has: {', '.join(map(str, ds.variables))})."
            )
    lat, lon = ds[latitude], ds[longitude]
    if isinstance(names, str):
        names = [names]
    if names is None:
        names = [
            str(n)
            for n, v in ds.data_vars.items()
            if set(v.dims) == set(lat.dims) and n not in (latitude, longitude)
        ]
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise GriddingError(
            f"No variable {', '.join(map(repr, missing))} in this dataset; it has: "
            f"{', '.join(map(str, ds.data_vars))}."
        )
    circular = set(circular)
    grid = SwathGrid.from_swath(lat, lon, crs=crs, resolution=resolution, bounds=bounds)
    gridded: Mapping[str, xr.DataArray] = {
        n: grid.interpolate(ds[n], circular=n in circular) for n in names
    }
    return xr.Dataset(gridded, coords=grid.coords())
