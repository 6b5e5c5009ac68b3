"""The XML documents of the SAFE replica: manifest, product metadata and tile metadata.

Why this module exists: a reader who unzips the sample SAFE archive should find the documents a
real Sentinel-2 L2A product carries, with the same element names and the facts of *this* product
(tile, dates, orbit, footprint, file names), so that code written against the replica (above all
the seed's XPath into ``manifest.safe``) works unchanged on a real archive. The documents are
templates (``templates/safe/``, element names from the public Sentinel-2 Products Specification,
PSD 14.x, and the SAFE/XFDU manifest layout of real L2A products; written here, none copied);
this module only computes what fills them. Values nobody can check offline (angles) are
plausible, computed from simple models; they are not measurements.

Everything is deterministic: the same product always yields byte-identical documents, so the
cached archive can be verified by its digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta

import numpy as np

from . import timefmt
from .catalog import INTERNATIONAL_DESIGNATORS, S2_TILE_SIZE_M, ProductRecord, utm_bounds
from .safe_names import SafeNames, footprint_lat_lon, render
from .solar import tile_angle_grid, tile_sun_angles

__all__ = ["DataObjectEntry", "SafeNames", "manifest", "product_metadata", "tile_metadata"]

BAND_COUNT = 13
"""The MSI bands, ``bandId`` 0 to 12 in the metadata (their names: ``MTD_MSIL2A.xml``)."""


@dataclass(frozen=True)
class DataObjectEntry:
    """One ``dataObject`` of the manifest: what it is, where it is, how big, its checksum."""

    id: str
    href: str  # "./GRANULE/..." relative to the SAFE directory
    mime: str
    size: int
    sha3_256: str
    container: str  # which content unit of the template's package map points at it
    unit: str
    unit_type: str
    text_info: str | None


def _start(names: SafeNames) -> str:
    """The product's start time: its datatake's, to the millisecond (24 ms in, as in real ones)."""
    return timefmt.iso(timefmt.parse_compact(names.datatake) + timedelta(milliseconds=24), 3)


def manifest(record: ProductRecord, names: SafeNames, entries: Sequence[DataObjectEntry]) -> bytes:
    """``manifest.safe``: the XFDU package map, the product's metadata and every data object."""
    rows = [asdict(entry) for entry in entries]
    containers = ("product", "html", "datastrip", "datastrip_qi", "aux", "img", "tile", "tile_qi")
    if unknown := {row["container"] for row in rows} - set(containers):
        raise ValueError(f"manifest.safe has no content unit for the containers {unknown}")
    return render(
        "manifest.safe",
        {
            **{name: [r for r in rows if r["container"] == name] for name in containers},
            "entries": rows,
            "start": _start(names),
            "absolute_orbit": f"{names.absolute_orbit:06d}",
            "relative_orbit": f"{names.relative_orbit:03d}",
            "nssdc_identifier": INTERNATIONAL_DESIGNATORS[f"sentinel-{names.platform[1:].lower()}"],
            "platform_number": names.platform[1:],
            "generation_time": timefmt.iso(names.generated_time, digits=6),
            "footprint": footprint_lat_lon(record),
        },
    )


def product_metadata(
    record: ProductRecord, names: SafeNames, image_files: Iterable[str], nodata_percent: float
) -> bytes:
    """``MTD_MSIL2A.xml``: product identity, file organisation, radiometry, footprint, quality."""
    return render(
        "MTD_MSIL2A.xml",
        {
            **asdict(names),
            "start": _start(names),
            "generation_time": timefmt.iso(names.generated_time, digits=6),
            "image_files": [{"path": path.removesuffix(".jp2")} for path in image_files],
            "footprint": footprint_lat_lon(record),
            "cloud_cover": f"{record.cloud_cover or 0.0:.6f}",
            "nodata_percent": f"{nodata_percent:.6f}",
        },
    )


def _grid(values: np.ndarray) -> list[dict[str, str]]:
    """An angle grid as the tile metadata writes it: one VALUES line per row."""
    return [
        {"values": " ".join("NaN" if np.isnan(v) else f"{v:.6g}" for v in row)} for row in values
    ]


def tile_metadata(
    record: ProductRecord, names: SafeNames, mask_files: Iterable[str], nodata_percent: float
) -> bytes:
    """``MTD_TL.xml``: the tile's geocoding, sun and viewing angle grids, quality indicators."""
    sensing = timefmt.parse_compact(names.granule_sensing)
    xmin, _, _, ymax = utm_bounds(record)
    grid_x, grid_y, _ = tile_angle_grid(record)
    xx, yy = np.meshgrid(grid_x, grid_y)
    zenith, azimuth = tile_sun_angles(record)
    # Viewing angles: the tile is seen by two adjacent detectors of the push-broom, split
    # along a slanted line; zenith grows away from nadir (a little west of the tile here).
    cross = (xx - xmin) / 109800.0
    boundary = 0.45 + 0.1 * (yy - ymax) / -109800.0
    viewing = [
        {
            "band_id": band_id,
            "detector": detector,
            "zenith": _grid(np.where(inside, 2.5 + 8.5 * cross + 0.05 * band_id, np.nan)),
            "azimuth": _grid(
                np.where(inside, 101.0 + 4.0 * cross + (180.0 if detector % 2 else 0.0), np.nan)
            ),
        }
        for band_id in range(BAND_COUNT)
        for detector, inside in ((4, cross < boundary), (5, cross >= boundary - 0.02))
    ]
    return render(
        "MTD_TL.xml",
        {
            **asdict(names),
            "sensing_time": timefmt.iso(sensing + timedelta(milliseconds=340), digits=6),
            "archiving_time": timefmt.iso(names.generated_time + timedelta(minutes=3), digits=6),
            "cs_name": f"WGS84 / UTM zone {names.epsg % 100}N",
            "cs_code": f"EPSG:{names.epsg}",
            "resolutions": [
                {"resolution": r, "pixels": S2_TILE_SIZE_M // r, "ulx": xmin, "uly": ymax}
                for r in (10, 20, 60)
            ],
            "sun_zenith": _grid(zenith),
            "sun_azimuth": _grid(azimuth),
            "mean_sun_zenith": f"{float(zenith.mean()):.10g}",
            "mean_sun_azimuth": f"{float(azimuth.mean()):.10g}",
            "viewing": viewing,
            "mean_viewing": [
                {
                    "band_id": b,
                    "zenith": f"{6.75 + 0.05 * b:.6g}",
                    "azimuth": f"{193.2 - 0.3 * b:.6g}",
                }
                for b in range(BAND_COUNT)
            ],
            "nodata_percent": f"{nodata_percent:.6f}",
            "cloud_cover": f"{record.cloud_cover or 0.0:.6f}",
            "masks": [
                {"path": path, "type": f"MSK_{path.rsplit('/', 1)[-1].split('_')[1]}"}
                for path in mask_files
            ],
            "preview": f"GRANULE/{names.granule}/QI_DATA/T{names.tile}_{names.datatake}_PVI.jp2",
        },
    )
