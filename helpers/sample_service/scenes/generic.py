"""Plausible values for any array of any product type, read from the array's own metadata.

The product types added by data alone (`products_generic`) have hundreds of arrays each (SLSTR
RBT has 921) that no chapter reads pixel by pixel: rather than invented physics per mission,
each array gets values from what its metadata says it holds: string labels, times from CF
``units`` over the sensing interval, latitude/longitude between the swath corners, a tile's
``x``/``y`` and sun angles (`solar`, as the item states them), counting index coordinates,
flags in patches, and otherwise smooth noise (`texture.fbm`, a pure function of the record and
pixel indices) in a range taken from the units, clipped and encoded as the array stores it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import numpy as np

from .. import timefmt
from ..catalog import S2_TILE_SIZE_M, ProductRecord
from ..products import ArraySpec
from ..solar import ANGLE_GRID_SIZE, ANGLE_GRID_STEP_M, mean_sun_angles, tile_sun_angles
from .s2_l2a import S2_BANDS
from .texture import F32, Region, corner_lonlat, fbm, seed_of, upsample

_NODE_STEP = 32  # noise nodes every 32 pixels, bilinear between them
_SECONDS_PER = {"nanoseconds": 1e-9, "microseconds": 1e-6, "milliseconds": 1e-3, "seconds": 1.0}
_SECONDS_PER |= {"minutes": 60.0, "hours": 3600.0, "days": 86400.0}
_SINCE = re.compile(r"^\s*(\w+)\s+since\s+(.+?)\s*$")
_STRING_COORDINATES = {"angle": ("zenith", "azimuth"), "band": S2_BANDS}
_LATITUDE = re.compile(r"^lat(itude.*)?$")
_LONGITUDE = re.compile(r"^lon(gitude.*)?$")


def decoded_range(attrs: dict[str, Any], name: str) -> tuple[float, float] | None:
    """A plausible range of physical values for an array, from its units (None: unknown)."""
    units = str(attrs.get("units", "")).strip().lower()
    if units in ("k", "kelvin"):
        return 265.0, 305.0
    if "sr-1" in units or "sr^-1" in units or "radiance" in str(attrs.get("standard_name")):
        return 20.0, 120.0
    if units == "digital_counts" or "reflectance" in name:
        return 0.02, 0.45
    if units in ("deg", "degree", "degrees"):
        return 5.0, 75.0
    if units in ("%", "percent"):
        return 0.0, 100.0
    if units in ("m", "metre", "meter", "metres", "meters"):
        return 0.0, 800.0
    return None


def _time_unit(attrs: dict[str, Any]) -> tuple[float, dt.datetime] | None:
    """(seconds per unit, epoch) of a CF ``<unit> since <epoch>`` attribute, or None."""
    match = _SINCE.match(str(attrs.get("units", "")))
    unit = match and _SECONDS_PER.get(match.group(1).lower())
    if not unit:
        return None
    try:
        epoch = dt.datetime.fromisoformat(match.group(2).replace(" ", "T").removesuffix("Z"))
    except ValueError:
        return None
    return unit, epoch if epoch.tzinfo else epoch.replace(tzinfo=dt.UTC)


def _fractions(region: Region, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """Positions 0..1 along ``axis`` of the region's indices (0.5 for a length-1 axis), shaped
    to broadcast along that axis."""
    index = np.arange(region[axis].start, region[axis].stop, dtype=np.float64)
    along = index / (shape[axis] - 1) if shape[axis] > 1 else np.full(index.shape, 0.5)
    return along.reshape([-1 if i == axis else 1 for i in range(len(shape))])


def _with_eopf_attrs(spec: ArraySpec) -> ArraySpec:
    """``spec`` whose attributes include those only ``_eopf_attrs`` states.

    EOPF writes some encodings (``scale_factor``, ``valid_min``, units as ``data_units``) only
    in ``_eopf_attrs``, which xarray-eopf applies; the values must fit them all the same.
    """
    eopf = spec.attrs.get("_eopf_attrs")
    if not isinstance(eopf, dict):
        return spec
    merged = {**eopf, **spec.attrs}
    if "units" not in merged and "data_units" in merged:
        merged["units"] = merged["data_units"]
    return dataclasses.replace(spec, attrs=merged)


def _quadrilateral(ring: np.ndarray) -> np.ndarray:
    """The four corners of a swath outline given with points along its edges.

    Real footprints list many points along the along-track edges; the corners are the four
    vertices where the outline turns most, kept in the outline's order.
    """
    if len(ring) <= 4:
        return ring
    incoming = ring - np.roll(ring, 1, axis=0)
    outgoing = np.roll(ring, -1, axis=0) - ring
    turn = np.abs(
        np.arctan2(
            incoming[:, 0] * outgoing[:, 1] - incoming[:, 1] * outgoing[:, 0],
            np.sum(incoming * outgoing, axis=1),
        )
    )
    return ring[np.sort(np.argsort(turn)[-4:])]


class GenericScene:
    """Values for every array of one record of a data-driven product type."""

    def __init__(self, record: ProductRecord) -> None:
        self.record = record
        self.start = timefmt.parse(record.start_datetime)
        self.end = timefmt.parse(record.end_datetime)
        self.seed = seed_of("generic", record.id)
        self.corners = (
            _quadrilateral(np.asarray(record.swath_corners, dtype=np.float64))
            if record.swath_corners
            else None
        )

    def values(self, spec: ArraySpec, region: Region) -> np.ndarray:
        """The stored values of ``spec`` in ``region`` (integers encoded as the array stores)."""
        spec = _with_eopf_attrs(spec)
        size = tuple(s.stop - s.start for s in region)
        name = spec.name.lower()
        if spec.dtype.kind in "USO":
            words = _STRING_COORDINATES.get(name)
            count = spec.shape[0] if spec.shape else 1
            if not words or len(words) != count:
                words = tuple(f"{name}_{i}" for i in range(count))
            out = np.array(words, dtype=spec.dtype)
            return out[region] if spec.shape else out.reshape(())
        if spec.dtype.kind == "b":
            return np.zeros(size, dtype=bool)
        if not spec.shape:
            return np.asarray(self._noise(spec, region, size).mean(), dtype=np.float64)
        time_unit = _time_unit(spec.attrs)
        if time_unit is not None:
            return self._times(spec, region, *time_unit)
        if self.record.utm_origin is not None:
            if name in ("x", "y") and spec.dims == (name,):
                return self._tile_axis(name, spec.shape[0])[region]
            # The one solar model: the item's view:sun_* and these arrays agree (solar.py).
            if name == "sun_angles" and spec.shape[-2:] == (ANGLE_GRID_SIZE, ANGLE_GRID_SIZE):
                return np.stack(tile_sun_angles(self.record))[region]
            if name == "mean_sun_angles" and spec.shape == (2,):
                return np.array(mean_sun_angles(self.record))[region]
        geo = self._geolocation(spec, region, name)
        if geo is not None:
            return self._encode(spec, geo)
        if len(spec.shape) == 1 and spec.dims and spec.dims[0].lower() == name:
            return np.arange(region[0].start, region[0].stop)
        field = self._noise(spec, region, size)
        if "flag_masks" in spec.attrs or "flag_values" in spec.attrs:
            return self._flags(spec, field)
        return self._scaled(spec, field, name)

    # --- what the metadata names ------------------------------------------------------------

    def _times(self, spec: ArraySpec, region: Region, unit: float, epoch: dt.datetime) -> Any:
        span = (self.end - self.start).total_seconds()
        seconds = (self.start - epoch).total_seconds() + span * _fractions(region, spec.shape, 0)
        values = np.broadcast_to(seconds / unit, tuple(s.stop - s.start for s in region))
        return np.rint(values) if spec.dtype.kind in "iu" else values

    def _tile_axis(self, name: str, count: int) -> np.ndarray:
        """Pixel centres of a tile's x or y axis, or the 5 km angle grid's points."""
        assert self.record.utm_origin is not None
        x0, y0 = self.record.utm_origin
        if S2_TILE_SIZE_M % count == 0:
            step = S2_TILE_SIZE_M // count
            offsets = step // 2 + step * np.arange(count)
        else:  # the angle grid (solar.tile_angle_grid): from the corner, 5 km apart
            offsets = (ANGLE_GRID_STEP_M * np.arange(count)).astype(np.int64)
        return x0 + offsets if name == "x" else y0 - offsets

    def _geolocation(self, spec: ArraySpec, region: Region, name: str) -> np.ndarray | None:
        """Latitude or longitude between the swath corners (bilinear), or None if not one."""
        units = str(spec.attrs.get("units", "")).lower()
        is_lat = bool(_LATITUDE.match(name)) or units == "degrees_north"
        if self.corners is None or not (
            is_lat or _LONGITUDE.match(name) or units == "degrees_east"
        ):
            return None
        ndim = len(spec.shape)
        along = _fractions(region, spec.shape, max(ndim - 2, 0))
        across = _fractions(region, spec.shape, ndim - 1) if ndim >= 2 else np.full((1,), 0.5)
        values = corner_lonlat(self.corners, along, across)[1 if is_lat else 0]
        return np.broadcast_to(values, tuple(s.stop - s.start for s in region))

    # --- invented values ----------------------------------------------------------------------

    def _noise(self, spec: ArraySpec, region: Region, size: tuple[int, ...]) -> np.ndarray:
        """Smooth noise in 0..1 over the last two dimensions (others shift its pattern)."""
        rows = region[-2] if len(region) >= 2 else slice(0, 1)
        cols = region[-1] if region else slice(0, 1)
        kr = np.arange(rows.start // _NODE_STEP, (rows.stop - 1) // _NODE_STEP + 2)
        kc = np.arange(cols.start // _NODE_STEP, (cols.stop - 1) // _NODE_STEP + 2)
        lead = region[:-2] if len(region) > 2 else ()
        lead_index = sum(s.start * 7 for s in lead)
        seed = seed_of(self.seed, spec.path, lead_index)
        ny, nx = np.meshgrid(kr.astype(np.float64), kc.astype(np.float64), indexing="ij")
        nodes = fbm(nx, ny, 16.0, 1.0, seed)
        fy = (np.arange(rows.start, rows.stop) - kr[0] * _NODE_STEP) / _NODE_STEP
        fx = (np.arange(cols.start, cols.stop) - kc[0] * _NODE_STEP) / _NODE_STEP
        field = upsample(nodes, fy, fx)
        unit = np.clip(F32(0.5) + F32(0.25) * np.asarray(field, dtype=F32), 0, 1)
        plane = np.broadcast_to(unit, (rows.stop - rows.start, cols.stop - cols.start))
        if len(size) >= 2:
            return np.broadcast_to(plane, size)
        return plane[0] if size else plane[0, 0]

    def _flags(self, spec: ArraySpec, field: np.ndarray) -> np.ndarray:
        """A few flags set in patches: the first mask where the field is high, the next lower."""
        masks = spec.attrs.get("flag_masks")
        if isinstance(masks, list) and masks:
            out = np.zeros(field.shape, dtype=np.int64)
            for rank, mask in enumerate(masks[:3]):
                out |= np.where(field > 0.75 - 0.1 * rank, int(mask), 0)
            return out
        values = spec.attrs.get("flag_values")
        options = np.asarray(values if isinstance(values, list) and values else [0])
        pick = np.minimum((field * len(options)).astype(np.int64), len(options) - 1)
        return options[pick]

    def _scaled(self, spec: ArraySpec, field: np.ndarray, name: str) -> np.ndarray:
        """The field mapped onto a plausible range, as the array stores it."""
        decoded = decoded_range(spec.attrs, name)
        if decoded is None:
            low, high = (0.0, 1.0) if spec.dtype.kind == "f" else (0.0, 100.0)
            return self._clip(spec, low + (high - low) * field)
        return self._encode(spec, decoded[0] + (decoded[1] - decoded[0]) * field)

    def _encode(self, spec: ArraySpec, values: np.ndarray) -> np.ndarray:
        """Physical values (e.g. degrees) as stored: through scale and offset into integers."""
        scale = spec.attrs.get("scale_factor")
        if spec.dtype.kind in "iu" and scale:
            values = (values - (spec.attrs.get("add_offset", 0.0) or 0.0)) / scale
        return self._clip(spec, values)

    @staticmethod
    def _clip(spec: ArraySpec, values: np.ndarray) -> np.ndarray:
        low, high = spec.attrs.get("valid_min"), spec.attrs.get("valid_max")
        if isinstance(low, int | float) and isinstance(high, int | float) and low < high:
            values = np.clip(values, low, high)
        if spec.dtype.kind in "iu":
            limits = np.iinfo(spec.dtype)
            values = np.clip(np.rint(values), limits.min, limits.max)
        return values
