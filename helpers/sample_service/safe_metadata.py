"""The documents of the SAFE replica: manifest, product, tile and datastrip metadata, INSPIRE, HTML
and QI reports, each a template of ``templates/safe/`` (sources in its README) filled here.

A reader who unzips the sample archive should find the documents a real Sentinel-2 L2A product
carries, with the same element names and *this* product's facts, so code written against the
replica (above all the seed's XPath into ``manifest.safe``) works unchanged on a real archive.
Values nobody can check offline (angles, orbit records) are plausible, from simple models, not
measurements. The output is deterministic, so the cached archive keeps its digest.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from . import timefmt
from .catalog import INTERNATIONAL_DESIGNATORS, S2_TILE_SIZE_M, ProductRecord, footprint, utm_bounds
from .solar import tile_angle_grid, tile_sun_angles

TEMPLATES = Path(__file__).parent / "templates" / "safe"
Values = Mapping[str, Any]
BAND_COUNT = 13
"""The MSI bands, ``bandId`` 0 to 12 in the metadata (their names: ``MTD_MSIL2A.xml``)."""
_QI_CHECKS = {
    "FORMAT_CORRECTNESS": ("Product_Syntax", "Metadata_Syntax", "Image_Format"),
    "GENERAL_QUALITY": ("Data_Completeness", "Lost_Packets", "Corrupted_Packets"),
    "GEOMETRIC_QUALITY": ("Geometric_Refinement", "Absolute_Location", "Multi_Temporal"),
    "RADIOMETRIC_QUALITY": ("Noise_Model", "Saturated_Pixels", "Defective_Pixels"),
    "SENSOR_QUALITY": ("Onboard_Temperature", "Compression_Noise", "Equalization"),
    "L2A_QUALITY": ("Atmospheric_Correction", "Cloud_Screening", "Terrain_Correction"),
}
_CONTAINERS = ("product", "html", "datastrip", "datastrip_qi", "aux", "img", "tile", "tile_qi")


@dataclass(frozen=True)
class SafeNames:
    """The names a Sentinel-2 L2A SAFE product derives from its identifier, as the Products
    Specification composes them (``S2A_MSIL2A_<datatake>_N<baseline>_R<orbit>_T<tile>_<generated>``;
    the absolute orbit comes from the catalogue record). The granule sensing time, four seconds
    after the datatake start, is a plausible choice: the real one is not published."""

    product: str
    platform: str  # "S2A"
    datatake: str  # "20250605T104701"
    baseline: str  # "05.11"
    relative_orbit: int
    tile: str  # "35WMU"
    generated: str  # "20250605T125416"
    absolute_orbit: int
    epsg: int
    safe: str  # the directory at the top of the archive: "<product>.SAFE"
    granule_sensing: str
    centre: str
    granule: str
    datastrip: str
    spacecraft: str
    tile_id: str  # product data item ids: "S2A_OPER_MSI_L2A_TL_2APS_<generated>_<...>_N05.11"
    l1c_tile_id: str
    datastrip_id: str
    datatake_id: str
    generation_time: str  # "2025-06-05T12:54:16.000000Z"
    start: str  # the datatake's start to the millisecond (24 ms in, as in real products)

    @classmethod
    def from_record(cls, record: ProductRecord) -> SafeNames:
        """The names of ``record``'s SAFE."""
        platform, _, datatake, baseline, orbit, tile, generated = record.id.split("_")
        absolute = record.absolute_orbit
        if absolute is None or record.epsg is None:
            raise ValueError(f"{record.id}: a SAFE replica needs a tiled product with an orbit")
        baseline, tile = f"{baseline[1:3]}.{baseline[3:5]}", tile[1:]
        datatake_start = timefmt.parse_compact(datatake)
        sensing = timefmt.compact(datatake_start + timedelta(seconds=4))
        centre = f"{platform[1:]}PS"  # processing centre: 2APS for S2A, 2BPS for S2B
        pdi = f"S2{platform[2]}_OPER_MSI_{{}}_{centre}_{generated}_{{}}"
        tile_suffix = f"A{absolute:06d}_T{tile}_N{baseline}"
        return cls(
            product=record.id,
            platform=platform,
            datatake=datatake,
            baseline=baseline,
            relative_orbit=int(orbit[1:]),
            tile=tile,
            generated=generated,
            absolute_orbit=absolute,
            epsg=record.epsg,
            safe=f"{record.id}.SAFE",
            granule_sensing=sensing,
            centre=centre,
            granule=f"L2A_T{tile}_A{absolute:06d}_{sensing}",
            datastrip=f"DS_{centre}_{generated}_S{sensing}",
            spacecraft=f"Sentinel-{platform[1:]}",
            tile_id=pdi.format("L2A_TL", tile_suffix),
            l1c_tile_id=pdi.format("L1C_TL", tile_suffix),
            datastrip_id=pdi.format("L2A_DS", f"S{sensing}_N{baseline}"),
            datatake_id=f"GS2{platform[2]}_{datatake}_{absolute:06d}_N{baseline}",
            generation_time=timefmt.iso(timefmt.parse_compact(generated), digits=6),
            start=timefmt.iso(datatake_start + timedelta(milliseconds=24), digits=3),
        )

    @property
    def generated_time(self) -> datetime:
        """When the product was generated, from its name."""
        return timefmt.parse_compact(self.generated)

    def expand(self, href: str) -> str:
        """Fill a generalised file location (``{granule}``, ``{tile}``, ...) for this product."""
        return href.format(
            granule=self.granule,
            datastrip=self.datastrip,
            tile=f"T{self.tile}",
            datatake=self.datatake,
        )


# --- templates ------------------------------------------------------------------------------------


def render(template: str, values: Values) -> bytes:
    """The XML document ``templates/safe/<template>`` filled with ``values``.

    ``$name`` in a text or an attribute takes ``values[name]`` (`fill`); an attribute that is
    only ``$name`` is left out when the value is None. An element with
    ``repeat="rows"`` is written once per mapping in ``values["rows"]``, whose keys fill it and
    its children. The output is ElementTree's (two-space indent, UTF-8 declaration, the
    template's namespace prefixes), whatever the template's layout.
    """
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for _, (prefix, uri) in ET.iterparse(io.StringIO(text), events=("start-ns",)):
        ET.register_namespace(prefix, uri)
    (root,) = _filled(ET.fromstring(text), values)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def fill(text: str, values: Values) -> Any:
    """``text`` filled: a text that is only ``$name`` is ``values[name]`` itself (of any type),
    any other is a `string.Template`. Shared by the XML documents and the STAC catalogue."""
    alone = re.fullmatch(r"\$(\w+)", text)
    return values[alone[1]] if alone else Template(text).substitute(values)


def _filled(element: ET.Element, values: Values) -> list[ET.Element]:
    """``element`` with its placeholders filled: one copy per row when it repeats."""
    repeat = element.get("repeat")
    copies = []
    for scope in [{**values, **row} for row in values[repeat]] if repeat else [values]:
        copy = ET.Element(element.tag)
        for key, template in element.attrib.items():
            value = fill(template, scope)
            if key != "repeat" and value is not None:
                copy.set(key, str(value))
        if element.text and element.text.strip():
            copy.text = str(fill(element.text.strip(), scope))
        for child in element:
            copy.extend(_filled(child, scope))
        copies.append(copy)
    return copies


def _footprint_lat_lon(record: ProductRecord) -> str:
    """The product footprint as "lat lon" pairs, closed, as SAFE's position lists write it."""
    _, geometry = footprint(record)
    return " ".join(f"{lat:.6f} {lon:.6f}" for lon, lat in geometry["coordinates"][0]) + " "


# --- documents ------------------------------------------------------------------------------------


def manifest(record: ProductRecord, names: SafeNames, entries: Sequence[Values]) -> bytes:
    """``manifest.safe``: the XFDU package map, the product's metadata and every data object
    (``entries``: the data objects of ``l2a_data_objects.json`` with ``size`` and ``sha3_256``)."""
    if unknown := {entry["container"] for entry in entries} - set(_CONTAINERS):
        raise ValueError(f"manifest.safe has no content unit for the containers {unknown}")
    return render(
        "manifest.safe",
        {
            **{name: [e for e in entries if e["container"] == name] for name in _CONTAINERS},
            "entries": entries,
            "start": names.start,
            "absolute_orbit": f"{names.absolute_orbit:06d}",
            "relative_orbit": f"{names.relative_orbit:03d}",
            "nssdc_identifier": INTERNATIONAL_DESIGNATORS[f"sentinel-{names.platform[1:].lower()}"],
            "platform_number": names.platform[1:],
            "generation_time": names.generation_time,
            "footprint": _footprint_lat_lon(record),
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
            "image_files": [{"path": path.removesuffix(".jp2")} for path in image_files],
            "footprint": _footprint_lat_lon(record),
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


def datastrip_metadata(names: SafeNames, target_size: int) -> bytes:
    """``MTD_DS.xml``: datastrip identity and processing, and its ancillary data.

    Most of a real datastrip document is ephemeris and attitude records sampled through the
    datastrip; here they come from a circular sun-synchronous orbit (786 km, 98.62 degrees),
    generated until the document reaches ``target_size`` bytes (the size of a real one).
    """
    start = timefmt.parse_compact(names.granule_sensing)
    skeleton = render(
        "MTD_DS.xml",
        {
            **asdict(names),
            "sensing_start": timefmt.iso(start, digits=6),
            "sensing_stop": timefmt.iso(start + timedelta(seconds=412), digits=6),
            "points": "@POINTS@",
            "attitudes": "@ATTITUDES@",
        },
    ).decode()
    # The records are written as text: building 15 MB of elements only to serialise them
    # would take several times longer and produce the same bytes.
    point, attitude = (
        Template("\n" + (TEMPLATES / name).read_text(encoding="utf-8").rstrip("\n"))
        for name in ("MTD_DS_gps_point.txt", "MTD_DS_attitude.txt")
    )
    radius = 6_371_000.0 + 786_000.0
    speed = math.sqrt(3.986004418e14 / radius)
    sin_i, cos_i = math.sin(math.radians(98.62)), math.cos(math.radians(98.62))
    points: list[str] = []
    attitudes: list[str] = []
    size = len(skeleton)
    second = 0
    while size < target_size:
        moment = start - timedelta(seconds=600) + timedelta(seconds=second)
        angle = second * speed / radius
        sin_a, cos_a = math.sin(angle), math.cos(angle)
        pos = (radius * cos_a, radius * sin_a * cos_i, radius * sin_a * sin_i)
        vel = (-speed * sin_a, speed * cos_a * cos_i, speed * cos_a * sin_i)
        quaternion = (
            math.cos(angle / 2),
            0.0012 * math.sin(second / 5),
            math.sin(angle / 2),
            0.0007,
        )
        points.append(
            point.substitute(
                position=" ".join(f"{v * 1000:.0f}" for v in pos),
                velocity=" ".join(f"{v * 1000:.0f}" for v in vel),
                gps_time=timefmt.iso(moment, digits=3)[:-1],
                gdop=f"{1.2 + 0.3 * math.sin(second / 17):.6f}",
            )
        )
        attitudes.append(
            attitude.substitute(
                rotation=" ".join(f"{q:.9f}" for q in quaternion),
                rates=f"{1e-5 * math.sin(second / 3):.9e} {-0.001063:.9e} 0",
                gps_time=timefmt.iso(moment + timedelta(milliseconds=500), digits=3)[:-1],
            )
        )
        size += len(points[-1]) + len(attitudes[-1])
        second += 1
    text = skeleton.replace("@POINTS@", "".join(points) + "\n" + " " * 6)
    return text.replace("@ATTITUDES@", "".join(attitudes) + "\n" + " " * 6).encode()


def inspire(record: ProductRecord, names: SafeNames) -> bytes:
    """``INSPIRE.xml``: the product's ISO 19139 discovery metadata (identity, date, extent)."""
    west, south, east, north = (f"{value:.6f}" for value in footprint(record)[0])
    return render(
        "INSPIRE.xml",
        {
            **asdict(names),
            "date": names.generated_time.strftime("%Y-%m-%d"),
            "relative_orbit": f"{names.relative_orbit:03d}",
            **{"west": west, "south": south, "east": east, "north": north},
        },
    )


def html_index(names: SafeNames) -> bytes:
    """``HTML/UserProduct_index.html``: the small landing page a SAFE product carries."""
    text = (TEMPLATES / "UserProduct_index.html").read_text(encoding="utf-8")
    return Template(text).substitute(asdict(names)).encode()


def qi_report(names: SafeNames, report: str, scope: str) -> bytes:
    """A quality-control report (``QI_DATA/*.xml``): an Earth Explorer file of passed checks."""
    generated = timefmt.iso(names.generated_time, digits=3)
    return render(
        "qi_report.xml",
        {
            "file_name": f"S2{names.platform[2]}_OPER_{report}_{scope}",
            "mission": names.spacecraft.upper(),
            "file_type": report[:10],
            "centre": names.centre,
            "creation_date": generated[:-5],
            "date": generated,
            "scope": scope,
            "report": report,
            "checks": [
                {"check": check, "message": check.replace("_", " ")} for check in _QI_CHECKS[report]
            ],
        },
    )
