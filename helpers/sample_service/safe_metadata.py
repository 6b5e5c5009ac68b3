"""The documents of the SAFE replica (manifest, product, tile and datastrip metadata, INSPIRE, HTML,
QI reports): templates of ``templates/safe/`` (sources in its README) filled from one dictionary
of the product's values, so that a reader who unzips the sample archive finds the documents of a
real Sentinel-2 L2A product, with the same element names and *this* product's facts: code written
against the replica (above all the seed's XPath into ``manifest.safe``) works on a real archive.
Values nobody can check offline (angles, orbit records) are plausible, from simple models.
"""

from __future__ import annotations

import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from . import timefmt
from .catalog import INTERNATIONAL_DESIGNATORS, S2_TILE_SIZE_M, ProductRecord, footprint
from .solar import ANGLE_GRID_STEP_M, tile_sun_angles

TEMPLATES = Path(__file__).parent / "templates" / "safe"
Values = Mapping[str, Any]
DATA_OBJECTS: list[dict[str, Any]] = json.loads(
    (TEMPLATES / "l2a_data_objects.json").read_text(encoding="utf-8")
)["data_objects"]
"""The data objects of a real L2A manifest, in its order, with their paths generalised."""
_NAMES = json.loads((TEMPLATES / "names.json").read_text(encoding="utf-8"))["names"]
_QI_CHECKS = json.loads((TEMPLATES / "qi_checks.json").read_text(encoding="utf-8"))["checks"]
BAND_COUNT = 13
"""The MSI bands, ``bandId`` 0 to 12 in the metadata (their names: ``MTD_MSIL2A.xml``)."""


def product_values(record: ProductRecord, nodata_percent: float = 0.0) -> dict[str, Any]:
    """Every value the documents of ``record``'s SAFE are filled with: the facts of its
    identifier (``S2A_MSIL2A_<datatake>_N<baseline>_R<orbit>_T<tile>_<generated>``) and record,
    then the names the Products Specification composes of them (``names.json``).

    The granule sensing time, four seconds after the datatake start, and the other offsets are
    plausible choices: the real ones are not published.
    """
    platform, _, datatake, baseline, _, _, generated = record.id.split("_")
    if record.absolute_orbit is None or record.epsg is None or record.utm_origin is None:
        raise ValueError(f"{record.id}: a SAFE replica needs a tiled product with an orbit")
    generated_time = timefmt.parse_compact(generated)
    sensing = timefmt.parse_compact(datatake) + timedelta(seconds=4)
    bbox, ring = footprint(record)
    values = {
        **vars(record),  # orbits, epsg, mgrs_tile, utm_origin (the grid's corner), start_datetime
        "product": record.id,
        "platform": platform,  # as the name writes it: "S2A"
        "datatake": datatake,
        "baseline": f"{baseline[1:3]}.{baseline[3:5]}",
        "generated": generated,
        "utm_zone": record.epsg % 100,
        "nssdc_identifier": INTERNATIONAL_DESIGNATORS[record.platform],
        "generated_time": generated_time,
        "archiving_time": generated_time + timedelta(minutes=3),
        "sensing": sensing,
        "sensing_time": sensing + timedelta(milliseconds=340),
        "sensing_stop": sensing + timedelta(seconds=412),
        "bbox": bbox,  # the footprint, and its closed ring as SAFE writes it: "lat lon" pairs
        "footprint": " ".join(f"{lat:.6f} {lon:.6f}" for lon, lat in ring["coordinates"][0]) + " ",
        "cloud_cover": record.cloud_cover or 0.0,
        "nodata_percent": nodata_percent,
        "resolutions": [{"resolution": r, "pixels": S2_TILE_SIZE_M // r} for r in (10, 20, 60)],
        **_angles(record),
    }
    for name, template in _NAMES.items():  # in order: a name may use the ones before it
        values[name] = fill(template, values)
    objects = members(values)
    values["image_files"] = [
        {"path": p.removesuffix(".jp2")} for p, o in objects if o["container"] == "img"
    ]
    values["masks"] = [
        {"path": p, "type": f"MSK_{p.rsplit('/', 1)[-1].split('_')[1]}"}
        for p, o in objects
        if o["kind"].startswith("mask_")
    ]
    return values


def _angles(record: ProductRecord) -> dict[str, Any]:
    """The tile metadata's sun and viewing angle grids (one mapping per ``VALUES`` line)."""
    zenith, azimuth = tile_sun_angles(record)
    # Viewing angles: the tile is seen by two adjacent detectors of the push-broom, split
    # along a slanted line; zenith grows away from nadir (a little west of the tile here).
    steps = np.arange(zenith.shape[0]) * ANGLE_GRID_STEP_M
    across, down = np.meshgrid(steps, steps)
    cross = across / S2_TILE_SIZE_M
    boundary = 0.45 + 0.1 * down / S2_TILE_SIZE_M
    detectors = ((4, cross < boundary), (5, cross >= boundary - 0.02))
    return {
        "sun_zenith": _grid(zenith),
        "sun_azimuth": _grid(azimuth),
        "mean_sun_zenith": float(zenith.mean()),
        "mean_sun_azimuth": float(azimuth.mean()),
        "viewing": [
            {
                "band_id": band,
                "detector": detector,
                "zenith": _grid(np.where(seen, 2.5 + 8.5 * cross + 0.05 * band, np.nan)),
                "azimuth": _grid(
                    np.where(seen, 101.0 + 4.0 * cross + 180.0 * (detector % 2), np.nan)
                ),
            }
            for band in range(BAND_COUNT)
            for detector, seen in detectors
        ],
        "mean_viewing": [
            {"band_id": b, "zenith": 6.75 + 0.05 * b, "azimuth": 193.2 - 0.3 * b}
            for b in range(BAND_COUNT)
        ],
    }


def _grid(values: np.ndarray) -> list[dict[str, str]]:
    """An angle grid as the tile metadata writes it: one VALUES line per row."""
    return [
        {"values": " ".join("NaN" if np.isnan(v) else f"{v:.6g}" for v in row)} for row in values
    ]


def members(values: Values) -> list[tuple[str, dict[str, Any]]]:
    """Every data object of the manifest, with its path in this product's SAFE directory."""
    return [(obj["href"].format_map(values)[2:], obj) for obj in DATA_OBJECTS]


# --- templates ------------------------------------------------------------------------------------


def fill(template: Any, values: Values) -> Any:
    """``template`` (a JSON value, or a text of an XML template) filled with ``values``.

    In a string, ``{name}`` and ``{name:format}`` take the value (`str.format_map`); a string
    that is only ``{name}`` is the value itself, of any type. Dicts and lists are filled item by
    item. Shared by the documents and the SAFE STAC catalogue (``cdse_stac.json``).
    """
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if not isinstance(template, str):
        return template
    alone = re.fullmatch(r"\{(\w+)\}", template)
    return values[alone[1]] if alone else template.format_map(values)


def render(template: str, values: Values) -> bytes:
    """The document ``templates/safe/<template>`` filled with ``values``.

    HTML is filled as text. In XML, an attribute that is only ``{name}`` is left out when the
    value is None, and an element with ``repeat="rows"`` is written once per mapping in
    ``values["rows"]``, whose keys fill it and its children. The output is ElementTree's
    (two-space indent, UTF-8 declaration, the template's namespace prefixes), whatever the
    template's layout.
    """
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    if template.endswith(".html"):
        return text.format_map(values).encode()
    for _, (prefix, uri) in ET.iterparse(io.StringIO(text), events=("start-ns",)):
        ET.register_namespace(prefix, uri)
    (root,) = _filled(ET.fromstring(text), values)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _filled(element: ET.Element, values: Values) -> list[ET.Element]:
    """``element`` with its placeholders filled: one copy per row when it repeats."""
    repeat = element.get("repeat")
    copies = []
    for scope in [{**values, **row} for row in values[repeat]] if repeat else [values]:
        attributes = fill({k: v for k, v in element.attrib.items() if k != "repeat"}, scope)
        copy = ET.Element(element.tag, {k: str(v) for k, v in attributes.items() if v is not None})
        if element.text and element.text.strip():
            copy.text = str(fill(element.text.strip(), scope))
        for child in element:
            copy.extend(_filled(child, scope))
        copies.append(copy)
    return copies


# --- documents ------------------------------------------------------------------------------------


def document(path: str, obj: Values, values: Values) -> bytes:
    """The generated member ``path`` of data object ``obj`` (one with a ``template``)."""
    if obj["template"] == "MTD_DS.xml":
        return datastrip(values, obj["template_size"])
    if obj["template"] == "qi_report.xml":  # a report on the datastrip or on the granule
        report = path.rsplit("/", 1)[-1].removesuffix(".xml")
        scope = values["datastrip" if obj["container"] == "datastrip_qi" else "granule"]
        checks = [{"check": c, "message": c.replace("_", " ")} for c in _QI_CHECKS[report]]
        values = {**values, "report": report, "scope": scope, "checks": checks}
    return render(obj["template"], values)


def manifest(values: Values, entries: list[dict[str, Any]]) -> bytes:
    """``manifest.safe``: the XFDU package map, the product's metadata and every data object
    (``entries``: the data objects with their ``href``, ``size`` and ``sha3_256``), each
    pointed at from the content unit of its ``container``."""
    containers = {entry["container"]: [] for entry in entries}
    for entry in entries:
        containers[entry["container"]].append(entry)
    return render("manifest.safe", {**values, **containers, "entries": entries})


def datastrip(values: Values, target_size: int) -> bytes:
    """``MTD_DS.xml``: datastrip identity and processing, and its ancillary data.

    Most of a real datastrip document is ephemeris and attitude records sampled through the
    datastrip; here they come from a circular sun-synchronous orbit (786 km, 98.62 degrees),
    one a second until the document reaches ``target_size`` bytes (the size of a real one).
    They are written as text: building 15 MB of elements only to serialise them would take
    several times longer and produce the same bytes.
    """
    marks = {"points": "@POINTS@", "attitudes": "@ATTITUDES@"}
    text = render("MTD_DS.xml", {**values, **marks}).decode()
    templates = {
        name: "\n" + (TEMPLATES / f"MTD_DS_{name}.txt").read_text(encoding="utf-8").rstrip("\n")
        for name in marks
    }
    records: dict[str, list[str]] = {name: [] for name in marks}
    radius = 6_371_000.0 + 786_000.0
    speed = math.sqrt(3.986004418e14 / radius)
    sin_i, cos_i = math.sin(math.radians(98.62)), math.cos(math.radians(98.62))
    size, second = len(text), 0
    while size < target_size:
        angle = second * speed / radius
        sin_a, cos_a = math.sin(angle), math.cos(angle)
        position = (radius * cos_a, radius * sin_a * cos_i, radius * sin_a * sin_i)
        velocity = (-speed * sin_a, speed * cos_a * cos_i, speed * cos_a * sin_i)
        record = {
            "moment": values["sensing"] + timedelta(seconds=second - 600),  # whole seconds
            "position": [v * 1000 for v in position],
            "velocity": [v * 1000 for v in velocity],
            "gdop": 1.2 + 0.3 * math.sin(second / 17),
            "rotation": (math.cos(angle / 2), 0.0012 * math.sin(second / 5), math.sin(angle / 2)),
            "rate": 1e-5 * math.sin(second / 3),
        }
        for name, template in templates.items():
            records[name].append(template.format_map(record))
            size += len(records[name][-1])
        second += 1
    for name, mark in marks.items():
        text = text.replace(mark, "".join(records[name]) + "\n" + " " * 6)
    return text.encode()
