"""The SAFE replica's other documents: datastrip metadata, INSPIRE record, HTML, QI reports.

Generated for the product like the metadata of `safe_metadata` (element names from the public
Sentinel-2 Products Specification); deterministic, so the cached archive keeps its digest.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import timedelta

from . import timefmt
from .catalog import ProductRecord, footprint
from .safe_names import GCO, GMD, PSD, SafeNames, sub, to_bytes

# --- MTD_DS.xml -------------------------------------------------------------------------------


def datastrip_metadata(names: SafeNames, target_size: int) -> bytes:
    """``MTD_DS.xml``: datastrip identity and processing, and its ancillary data.

    Most of a real datastrip document is ephemeris and attitude records sampled through the
    datastrip; here they come from a circular sun-synchronous orbit (786 km, 98.62 degrees),
    generated until the document reaches ``target_size`` bytes (the size of a real one).
    """
    root = ET.Element(f"{{{PSD}/S2_PDI_Level-2A_Datastrip_Metadata.xsd}}Level-2A_DataStrip_ID")
    ET.register_namespace("n1", f"{PSD}/S2_PDI_Level-2A_Datastrip_Metadata.xsd")
    start = timefmt.parse_compact(names.granule_sensing)
    general = sub(root, "General_Info")
    sub(general, "DATASTRIP_ID", names.datastrip_id)
    sub(general, "DOWNLINK_PRIORITY", "NOMINAL")
    sub(general, "DATATAKE_ID", names.datatake_id)
    sub(general, "DATASTRIP_SENSING_START", timefmt.iso(start, digits=6))
    sub(general, "DATASTRIP_SENSING_STOP", timefmt.iso(start + timedelta(seconds=412), digits=6))
    processing = sub(general, "Processing_Info")
    sub(processing, "PROCESSING_CENTER", names.centre)
    sub(processing, "UTC_DATE_TIME", timefmt.iso(names.generated_time, digits=6))
    sub(processing, "PROCESSING_BASELINE", names.baseline)
    ancillary = sub(root, "Satellite_Ancillary_Data_Info")
    sub(sub(ancillary, "Ephemeris"), "GPS_Points_List", "@POINTS@")
    sub(sub(ancillary, "Attitudes"), "Corrected_Attitudes", "@ATTITUDES@")
    skeleton = to_bytes(root).decode()

    # The records are written as text: building 15 MB of elements only to serialise them
    # would take several times longer and produce the same bytes.
    radius = 6_371_000.0 + 786_000.0
    speed = math.sqrt(3.986004418e14 / radius)
    inclination = math.radians(98.62)
    points: list[str] = []
    attitudes: list[str] = []
    size = len(skeleton)
    second = 0
    pad = "\n" + " " * 8
    while size < target_size:
        moment = start - timedelta(seconds=600) + timedelta(seconds=second)
        angle = second * speed / radius
        pos = (
            radius * math.cos(angle),
            radius * math.sin(angle) * math.cos(inclination),
            radius * math.sin(angle) * math.sin(inclination),
        )
        vel = (
            -speed * math.sin(angle),
            speed * math.cos(angle) * math.cos(inclination),
            speed * math.cos(angle) * math.sin(inclination),
        )
        half = angle / 2
        quaternion = (math.cos(half), 0.0012 * math.sin(second / 5), math.sin(half), 0.0007)
        gps_time = timefmt.iso(moment, digits=3)[:-1]
        position = " ".join(f"{v * 1000:.0f}" for v in pos)
        velocity = " ".join(f"{v * 1000:.0f}" for v in vel)
        point = (
            f"{pad}<GPS_Point>"
            f'{pad}  <POSITION_VALUES unit="mm">{position}</POSITION_VALUES>'
            f'{pad}  <POSITION_ERRORS unit="mm">0 0 0</POSITION_ERRORS>'
            f'{pad}  <VELOCITY_VALUES unit="mm/s">{velocity}</VELOCITY_VALUES>'
            f'{pad}  <VELOCITY_ERRORS unit="mm/s">0 0 0</VELOCITY_ERRORS>'
            f"{pad}  <GPS_TIME>{gps_time}</GPS_TIME>"
            f"{pad}  <NSM>12</NSM>{pad}  <QUALITY_INDEX>1</QUALITY_INDEX>"
            f"{pad}  <GDOP>{1.2 + 0.3 * math.sin(second / 17):.6f}</GDOP>"
            f"{pad}</GPS_Point>"
        )
        rotation = " ".join(f"{q:.9f}" for q in quaternion)
        attitude_time = timefmt.iso(moment + timedelta(milliseconds=500), digits=3)
        rates = f"{1e-5 * math.sin(second / 3):.9e} {-0.001063:.9e} 0"
        attitude = (
            f"{pad}<Values>"
            f"{pad}  <QUATERNION_VALUES>{rotation}</QUATERNION_VALUES>"
            f"{pad}  <ANGULAR_RATE>{rates}</ANGULAR_RATE>"
            f"{pad}  <GPS_TIME>{attitude_time[:-1]}</GPS_TIME>"
            f"{pad}</Values>"
        )
        points.append(point)
        attitudes.append(attitude)
        size += len(point) + len(attitude)
        second += 1
    text = skeleton.replace("@POINTS@", "".join(points) + "\n" + " " * 6)
    return text.replace("@ATTITUDES@", "".join(attitudes) + "\n" + " " * 6).encode()


# --- INSPIRE.xml, HTML, QI reports -------------------------------------------------------------


def inspire(record: ProductRecord, names: SafeNames) -> bytes:
    """``INSPIRE.xml``: the product's ISO 19139 discovery metadata (identity, date, extent)."""
    root = ET.Element(f"{{{GMD}}}MD_Metadata")

    def text(parent: ET.Element, tag: str, value: object) -> None:
        sub(sub(parent, f"{{{GMD}}}{tag}"), f"{{{GCO}}}CharacterString", value)

    text(root, "fileIdentifier", names.product)
    language = sub(root, f"{{{GMD}}}language")
    codes = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml"
    sub(
        language,
        f"{{{GMD}}}LanguageCode",
        "eng",
        codeList="http://www.loc.gov/standards/iso639-2/",
        codeListValue="eng",
    )
    level = sub(root, f"{{{GMD}}}hierarchyLevel")
    sub(
        level,
        f"{{{GMD}}}MD_ScopeCode",
        "dataset",
        codeList=f"{codes}#MD_ScopeCode",
        codeListValue="dataset",
    )
    contact = sub(sub(root, f"{{{GMD}}}contact"), f"{{{GMD}}}CI_ResponsibleParty")
    text(contact, "organisationName", "ESA")
    date = sub(root, f"{{{GMD}}}dateStamp")
    sub(date, f"{{{GCO}}}Date", names.generated_time.strftime("%Y-%m-%d"))
    ident = sub(sub(root, f"{{{GMD}}}identificationInfo"), f"{{{GMD}}}MD_DataIdentification")
    citation = sub(sub(ident, f"{{{GMD}}}citation"), f"{{{GMD}}}CI_Citation")
    text(citation, "title", names.product)
    abstract = (
        f"{names.spacecraft} MSI Level-2A bottom-of-atmosphere reflectance, tile T{names.tile}, "
        f"relative orbit R{names.relative_orbit:03d}."
    )
    text(ident, "abstract", abstract)
    bbox, _ = footprint(record)
    extent = sub(sub(ident, f"{{{GMD}}}extent"), f"{{{GMD}}}EX_Extent")
    box = sub(sub(extent, f"{{{GMD}}}geographicElement"), f"{{{GMD}}}EX_GeographicBoundingBox")
    for tag, value in zip(
        ("westBoundLongitude", "southBoundLatitude", "eastBoundLongitude", "northBoundLatitude"),
        bbox,
        strict=True,
    ):
        sub(sub(box, f"{{{GMD}}}{tag}"), f"{{{GCO}}}Decimal", f"{value:.6f}")
    return to_bytes(root)


def html_index(names: SafeNames) -> bytes:
    """``HTML/UserProduct_index.html``: the small landing page a SAFE product carries."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{names.product}</title></head>\n<body>\n"
        f"<h1>{names.spacecraft} MSI Level-2A product</h1>\n"
        f"<p>Product: {names.product}<br>Tile: T{names.tile}<br>"
        f"Processing baseline: {names.baseline}</p>\n"
        '<p>Metadata: <a href="../MTD_MSIL2A.xml">MTD_MSIL2A.xml</a>, '
        'manifest: <a href="../manifest.safe">manifest.safe</a></p>\n'
        "</body>\n</html>\n"
    ).encode()


def html_stylesheet() -> bytes:
    """``HTML/UserProduct_index.xsl``: renders the product metadata's identity as HTML."""
    xsl = "http://www.w3.org/1999/XSL/Transform"
    ET.register_namespace("xsl", xsl)
    root = ET.Element(f"{{{xsl}}}stylesheet", {"version": "1.0"})
    template = sub(root, f"{{{xsl}}}template", match="/")
    html = sub(template, "html")
    body = sub(html, "body")
    heading = sub(body, "h1")
    sub(heading, f"{{{xsl}}}value-of", select="//PRODUCT_URI")
    table = sub(body, "table")
    for field in ("PRODUCT_TYPE", "PROCESSING_BASELINE", "GENERATION_TIME", "SPACECRAFT_NAME"):
        row = sub(table, "tr")
        sub(row, "td", field)
        sub(sub(row, "td"), f"{{{xsl}}}value-of", select=f"//{field}")
    return to_bytes(root)


_QI_CHECKS = {
    "FORMAT_CORRECTNESS": ("Product_Syntax", "Metadata_Syntax", "Image_Format"),
    "GENERAL_QUALITY": ("Data_Completeness", "Lost_Packets", "Corrupted_Packets"),
    "GEOMETRIC_QUALITY": ("Geometric_Refinement", "Absolute_Location", "Multi_Temporal"),
    "RADIOMETRIC_QUALITY": ("Noise_Model", "Saturated_Pixels", "Defective_Pixels"),
    "SENSOR_QUALITY": ("Onboard_Temperature", "Compression_Noise", "Equalization"),
    "L2A_QUALITY": ("Atmospheric_Correction", "Cloud_Screening", "Terrain_Correction"),
}


def qi_report(names: SafeNames, report: str, scope: str) -> bytes:
    """A quality-control report (``QI_DATA/*.xml``): an Earth Explorer file of passed checks."""
    root = ET.Element("Earth_Explorer_File")
    header = sub(sub(root, "Earth_Explorer_Header"), "Fixed_Header")
    sub(header, "File_Name", f"S2{names.platform[2]}_OPER_{report}_{scope}")
    sub(header, "File_Description", "Report produced by OLQC-SC")
    sub(header, "Mission", names.spacecraft.upper())
    sub(header, "File_Class", "OPER")
    sub(header, "File_Type", report[:10])
    source = sub(header, "Source")
    sub(source, "System", names.centre)
    sub(source, "Creation_Date", f"UTC={timefmt.iso(names.generated_time, digits=3)[:-5]}")
    block = sub(root, "Data_Block", type="xml")
    checks = sub(
        sub(block, "report", date=timefmt.iso(names.generated_time, digits=3)), "checkList"
    )
    sub(checks, "parentID", scope)
    sub(checks, "name", report)
    sub(checks, "version", "1.0")
    for check in _QI_CHECKS[report]:
        node = sub(checks, "check")
        sub(
            node,
            "inspection",
            execution=timefmt.iso(names.generated_time, digits=3),
            id=check,
            status="PASSED",
        )
        sub(node, "message", f"{check.replace('_', ' ')} check passed", contentType="text/plain")
    return to_bytes(root)
