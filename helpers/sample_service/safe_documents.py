"""The SAFE replica's other documents: datastrip metadata, INSPIRE record, HTML, QI reports.

Templates filled for the product like those of `safe_metadata` (``templates/safe/``, element
names from the public Sentinel-2 Products Specification); deterministic, so the cached archive
keeps its digest.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import timedelta
from string import Template

from . import timefmt
from .catalog import ProductRecord, footprint
from .safe_names import TEMPLATES, SafeNames, render

_QI_CHECKS = {
    "FORMAT_CORRECTNESS": ("Product_Syntax", "Metadata_Syntax", "Image_Format"),
    "GENERAL_QUALITY": ("Data_Completeness", "Lost_Packets", "Corrupted_Packets"),
    "GEOMETRIC_QUALITY": ("Geometric_Refinement", "Absolute_Location", "Multi_Temporal"),
    "RADIOMETRIC_QUALITY": ("Noise_Model", "Saturated_Pixels", "Defective_Pixels"),
    "SENSOR_QUALITY": ("Onboard_Temperature", "Compression_Noise", "Equalization"),
    "L2A_QUALITY": ("Atmospheric_Correction", "Cloud_Screening", "Terrain_Correction"),
}


def _record_template(name: str) -> Template:
    """A record of ``MTD_DS.xml`` as text, each line at its depth in the document."""
    return Template("\n" + (TEMPLATES / name).read_text(encoding="utf-8").rstrip("\n"))


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
            "generation_time": timefmt.iso(names.generated_time, digits=6),
            "points": "@POINTS@",
            "attitudes": "@ATTITUDES@",
        },
    ).decode()

    # The records are written as text: building 15 MB of elements only to serialise them
    # would take several times longer and produce the same bytes.
    point_template = _record_template("MTD_DS_gps_point.txt")
    attitude_template = _record_template("MTD_DS_attitude.txt")
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
        point = point_template.substitute(
            position=" ".join(f"{v * 1000:.0f}" for v in pos),
            velocity=" ".join(f"{v * 1000:.0f}" for v in vel),
            gps_time=timefmt.iso(moment, digits=3)[:-1],
            gdop=f"{1.2 + 0.3 * math.sin(second / 17):.6f}",
        )
        attitude = attitude_template.substitute(
            rotation=" ".join(f"{q:.9f}" for q in quaternion),
            rates=f"{1e-5 * math.sin(second / 3):.9e} {-0.001063:.9e} 0",
            gps_time=timefmt.iso(moment + timedelta(milliseconds=500), digits=3)[:-1],
        )
        points.append(point)
        attitudes.append(attitude)
        size += len(point) + len(attitude)
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


def html_stylesheet() -> bytes:
    """``HTML/UserProduct_index.xsl``: renders the product metadata's identity as HTML."""
    return render("UserProduct_index.xsl", {})


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
