"""The XML documents of the SAFE replica: manifest, product/tile/datastrip metadata, QI reports.

Why this module exists: a reader who unzips the sample SAFE archive should find the documents a
real Sentinel-2 L2A product carries, with the same element names and the facts of *this* product
(tile, dates, orbit, footprint, file names), so that code written against the replica (above all
the seed's XPath into ``manifest.safe``) works unchanged on a real archive. The element names
follow the public Sentinel-2 Products Specification (PSD 14.x) and the SAFE/XFDU manifest layout
of real L2A products; the documents are generated here, none is copied. Values nobody can check
offline (ephemeris, attitudes, angles) are plausible, computed from simple models; they are not
measurements.

Everything is deterministic: the same product always yields byte-identical documents, so the
cached archive can be verified by its digest.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from . import timefmt
from .catalog import INTERNATIONAL_DESIGNATORS, S2_TILE_SIZE_M, ProductRecord, utm_bounds
from .safe_names import (
    BAND_RESOLUTION,
    BANDS,
    GML,
    PSD,
    SAFE_NS,
    SCENE_CLASSES,
    XFDU,
    XSI,
    SafeNames,
    footprint_lat_lon,
    sub,
    to_bytes,
)
from .solar import tile_angle_grid, tile_sun_angles

# --- manifest.safe ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DataObjectEntry:
    """One ``dataObject`` of the manifest: what it is, where it is, how big, its checksum."""

    id: str
    href: str  # "./GRANULE/..." relative to the SAFE directory
    mime: str
    size: int
    sha3_256: str
    container: str
    unit: str
    unit_type: str
    text_info: str | None


_CONTAINERS = {
    # container -> (parent unit id, its textInfo); None parent means directly in the product unit
    "product": (None, None),
    "html": ("HTML", "HTML container"),
    "datastrip": ("Datastrip1", "Datastrip Container"),
    "datastrip_qi": ("QI_DATA_Datastrip1", "Quality Control Container"),
    "aux": ("AUX_DATA_GranuleTile1", "Auxiliary Container"),
    "img": ("IMG_Data_Tile1", "Image Data Container"),
    "tile": ("Tile1", "Tile Container"),
    "tile_qi": ("QI_DATA_Tile1", "Quality Control Container"),
}


def manifest(record: ProductRecord, names: SafeNames, entries: Sequence[DataObjectEntry]) -> bytes:
    """``manifest.safe``: the XFDU package map, the product's metadata and every data object.

    The ``dataObject`` elements are unqualified (no namespace), as in real products, so the
    seed's ``.//dataObject[@ID='IMG_DATA_Band_TCI_60m_Tile1_Data']/byteStream/fileLocation``
    finds them with plain ElementTree.
    """
    root = ET.Element(
        f"{{{XFDU}}}XFDU",
        {"version": "esa/safe/sentinel/1.1/sentinel-2/msi/archive_l2a_user_product"},
    )
    package = sub(root, "informationPackageMap")
    product_unit = sub(
        package,
        f"{{{XFDU}}}contentUnit",
        dmdID="acquisitionPeriod platform",
        pdiID="processing",
        textInfo="SENTINEL-2 MSI Level-2A User Product",
        unitType="Product_Level-2A",
    )
    units: dict[str, ET.Element] = {}

    def container(name: str) -> ET.Element:
        if name == "product":
            return product_unit
        if name in units:
            return units[name]
        parent_name = {
            "html": "product",
            "datastrip": "datastrips",
            "datastrip_qi": "datastrip",
            "tile": "tiles",
            "aux": "tile",
            "img": "tile",
            "tile_qi": "tile",
        }[name]
        if parent_name in ("datastrips", "tiles"):
            if parent_name not in units:
                uid, text = (
                    ("Datastrips", "Datastrips Container")
                    if parent_name == "datastrips"
                    else ("Tiles", "Tiles Container")
                )
                units[parent_name] = sub(
                    product_unit, f"{{{XFDU}}}contentUnit", ID=uid, textInfo=text
                )
            parent = units[parent_name]
        else:
            parent = container(parent_name)
        uid, text = _CONTAINERS[name]
        units[name] = sub(parent, f"{{{XFDU}}}contentUnit", ID=uid, textInfo=text)
        return units[name]

    for entry in entries:
        attrib = {"ID": entry.unit}
        if entry.text_info:
            attrib["textInfo"] = entry.text_info
        attrib["unitType"] = entry.unit_type
        unit = sub(container(entry.container), f"{{{XFDU}}}contentUnit", **attrib)
        sub(unit, "dataObjectPointer", dataObjectID=entry.id)
    sub(product_unit, f"{{{XFDU}}}contentUnit", ID="AuxData", textInfo="Auxiliary Data container")

    section = sub(root, "metadataSection")
    start = timefmt.parse_compact(names.datatake) + timedelta(milliseconds=24)
    wraps = {
        "acquisitionPeriod": ("DMD", "DESCRIPTION", "Acquisition Period"),
        "measurementOrbitReference": ("DMD", "DESCRIPTION", "Orbit Reference"),
        "platform": ("DMD", "DESCRIPTION", "Platform Description"),
        "processing": ("PDI", "PROVENANCE", "Processing"),
        "measurementFrameSet": ("DMD", "DESCRIPTION", "Frame Set"),
    }
    data: dict[str, ET.Element] = {}
    for object_id, (category, classification, text) in wraps.items():
        obj = sub(
            section,
            "metadataObject",
            ID=object_id,
            category=category,
            classification=classification,
        )
        wrap = sub(
            obj,
            "metadataWrap",
            mimeType="text/xml",
            textInfo=text,
            vocabularyName="Sentinel-SAFE",
        )
        data[object_id] = sub(wrap, "xmlData")
    period = sub(data["acquisitionPeriod"], f"{{{SAFE_NS}}}acquisitionPeriod")
    sub(period, f"{{{SAFE_NS}}}startTime", timefmt.iso(start, digits=3))
    orbit = sub(data["measurementOrbitReference"], f"{{{SAFE_NS}}}orbitReference")
    sub(
        orbit,
        f"{{{SAFE_NS}}}orbitNumber",
        f"{names.absolute_orbit:06d}",
        groundTrackDirection="descending",
        type="start",
    )
    sub(orbit, f"{{{SAFE_NS}}}relativeOrbitNumber", f"{names.relative_orbit:03d}", type="start")
    platform = sub(data["platform"], f"{{{SAFE_NS}}}platform")
    sub(
        platform,
        f"{{{SAFE_NS}}}nssdcIdentifier",
        INTERNATIONAL_DESIGNATORS[f"sentinel-{names.platform[1:].lower()}"],
    )
    sub(platform, f"{{{SAFE_NS}}}familyName", "SENTINEL")
    sub(platform, f"{{{SAFE_NS}}}number", names.platform[1:])
    instrument = sub(platform, f"{{{SAFE_NS}}}instrument")
    sub(instrument, f"{{{SAFE_NS}}}familyName", "Multi-Spectral Instrument", abbreviation="MSI")
    sub(
        data["processing"],
        f"{{{SAFE_NS}}}processing",
        name="Generation of Level-2A User Product",
        start=timefmt.iso(names.generated_time, digits=6),
    )
    frame = sub(data["measurementFrameSet"], f"{{{SAFE_NS}}}frameSet")
    foot = sub(
        frame, f"{{{SAFE_NS}}}footPrint", srsName="http://www.opengis.net/gml/srs/epsg.xml#4326"
    )
    coordinates = " ".join(f"{lat:.6f} {lon:.6f}" for lat, lon in footprint_lat_lon(record))
    sub(foot, f"{{{GML}}}coordinates", coordinates + " ")
    for pointer_id, described in (
        ("S2_Level-2A_Product_Metadata_Information", "S2_Level-2A_Product_Metadata"),
        ("INSPIRE_Metadata_Information", "INSPIRE_Metadata"),
        ("S2_Level-2A_Datastrip1_Metadata_Information", "S2_Level-2A_Datastrip1_Metadata"),
        ("S2_Level-2A_Tile1_Metadata_Information", "S2_Level-2A_Tile1_Metadata"),
    ):
        obj = sub(
            section, "metadataObject", ID=pointer_id, category="DMD", classification="DESCRIPTION"
        )
        sub(obj, "dataObjectPointer", dataObjectID=described)

    objects = sub(root, "dataObjectSection")
    for entry in entries:
        obj = sub(objects, "dataObject", ID=entry.id)
        stream = sub(obj, "byteStream", mimeType=entry.mime, size=entry.size)
        sub(stream, "fileLocation", href=entry.href, locatorType="URL")
        sub(stream, "checksum", entry.sha3_256, checksumName="SHA3-256")
    return to_bytes(root)


# --- MTD_MSIL2A.xml --------------------------------------------------------------------------


def product_metadata(
    record: ProductRecord, names: SafeNames, image_files: Iterable[str], nodata_percent: float
) -> bytes:
    """``MTD_MSIL2A.xml``: product identity, file organisation, radiometry, footprint, quality."""
    schema = f"{PSD}/User_Product_Level-2A.xsd"
    root = ET.Element(
        f"{{{schema}}}Level-2A_User_Product",
        {f"{{{XSI}}}schemaLocation": f"{schema} S2_User_Product_Level-2A_Metadata.xsd"},
    )
    ET.register_namespace("n1", f"{PSD}/User_Product_Level-2A.xsd")
    start = timefmt.parse_compact(names.datatake) + timedelta(milliseconds=24)
    general = sub(root, "General_Info")
    info = sub(general, "Product_Info")
    sub(info, "PRODUCT_START_TIME", timefmt.iso(start, digits=3))
    sub(info, "PRODUCT_STOP_TIME", timefmt.iso(start, digits=3))
    sub(info, "PRODUCT_URI", names.safe)
    sub(info, "PROCESSING_LEVEL", "Level-2A")
    sub(info, "PRODUCT_TYPE", "S2MSI2A")
    sub(info, "PROCESSING_BASELINE", names.baseline)
    sub(info, "PRODUCT_DOI", "https://doi.org/10.5270/S2_-znk9xsj")
    sub(info, "GENERATION_TIME", timefmt.iso(names.generated_time, digits=6))
    sub(info, "PREVIEW_IMAGE_URL", "Not applicable")
    sub(info, "PREVIEW_GEO_INFO", "Not applicable")
    take = sub(info, "Datatake", datatakeIdentifier=names.datatake_id)
    sub(take, "DATATAKE_TYPE", "INS-NOBS")
    sub(take, "SPACECRAFT_NAME", names.spacecraft)
    sub(take, "DATATAKE_SENSING_START", timefmt.iso(start, digits=3))
    sub(take, "SENSING_ORBIT_NUMBER", names.relative_orbit)
    sub(take, "SENSING_ORBIT_DIRECTION", "DESCENDING")
    options = sub(info, "Query_Options", completeSingleTile="true")
    sub(options, "PRODUCT_FORMAT", "SAFE_COMPACT")
    organisation = sub(info, "Product_Organisation")
    granule_list = sub(organisation, "Granule_List")
    granule = sub(
        granule_list,
        "Granule",
        datastripIdentifier=names.datastrip_id,
        granuleIdentifier=names.tile_id,
        imageFormat="JPEG2000",
    )
    for path in image_files:
        sub(granule, "IMAGE_FILE", path.removesuffix(".jp2"))

    characteristics = sub(general, "Product_Image_Characteristics")
    for kind, value in (("NODATA", 0), ("SATURATED", 65535)):
        special = sub(characteristics, "Special_Values")
        sub(special, "SPECIAL_VALUE_TEXT", kind)
        sub(special, "SPECIAL_VALUE_INDEX", value)
    order = sub(characteristics, "Image_Display_Order")
    for colour, index in (("RED_CHANNEL", 3), ("GREEN_CHANNEL", 2), ("BLUE_CHANNEL", 1)):
        sub(order, colour, index)
    quant = sub(characteristics, "QUANTIFICATION_VALUES_LIST")
    sub(quant, "BOA_QUANTIFICATION_VALUE", 10000, unit="none")
    sub(quant, "AOT_QUANTIFICATION_VALUE", "1000.0", unit="none")
    sub(quant, "WVP_QUANTIFICATION_VALUE", "1000.0", unit="cm")
    offsets = sub(characteristics, "BOA_ADD_OFFSET_VALUES_LIST")
    for band_id, _band in enumerate(BANDS):
        sub(offsets, "BOA_ADD_OFFSET", -1000, band_id=band_id)
    spectral = sub(characteristics, "Spectral_Information_List")
    for band_id, band in enumerate(BANDS):
        item = sub(
            spectral, "Spectral_Information", bandId=band_id, physicalBand=band.replace("B0", "B")
        )
        sub(item, "RESOLUTION", BAND_RESOLUTION[band])
    sub(characteristics, "PHYSICAL_GAINS", "Not applicable")
    sub(characteristics, "REFERENCE_BAND", 1)
    classes = sub(characteristics, "Scene_Classification_List")
    for index, name in enumerate(SCENE_CLASSES):
        cls = sub(classes, "Scene_Classification_ID")
        sub(cls, "SCENE_CLASSIFICATION_TEXT", f"SC_{name}")
        sub(cls, "SCENE_CLASSIFICATION_INDEX", index)

    geometric = sub(root, "Geometric_Info")
    foot = sub(sub(sub(geometric, "Product_Footprint"), "Product_Footprint"), "Global_Footprint")
    positions = " ".join(f"{lat:.6f} {lon:.6f}" for lat, lon in footprint_lat_lon(record))
    sub(foot, "EXT_POS_LIST", positions + " ")
    crs = sub(geometric, "Coordinate_Reference_System")
    sub(crs, "GEO_TABLES", "EPSG", version="1.0")
    sub(crs, "HORIZONTAL_CS_TYPE", "GEOGRAPHIC")

    quality = sub(root, "Quality_Indicators_Info")
    sub(quality, "Cloud_Coverage_Assessment", f"{record.cloud_cover or 0.0:.6f}")
    technical = sub(quality, "Technical_Quality_Assessment")
    sub(technical, "DEGRADED_ANC_DATA_PERCENTAGE", "0.0")
    sub(technical, "DEGRADED_MSI_DATA_PERCENTAGE", 0)
    content = sub(quality, "Image_Content_QI")
    sub(content, "NODATA_PIXEL_PERCENTAGE", f"{nodata_percent:.6f}")
    sub(content, "CLOUDY_PIXEL_OVER_LAND_PERCENTAGE", f"{record.cloud_cover or 0.0:.6f}")
    return to_bytes(root)


# --- MTD_TL.xml -------------------------------------------------------------------------------


def _grid(parent: ET.Element, tag: str, values: np.ndarray) -> None:
    """An angle grid as the tile metadata writes it: 5 km steps, one VALUES line per row."""
    node = sub(parent, tag)
    sub(node, "COL_STEP", 5000, unit="m")
    sub(node, "ROW_STEP", 5000, unit="m")
    rows = sub(node, "Values_List")
    for row in values:
        sub(rows, "VALUES", " ".join("NaN" if np.isnan(v) else f"{v:.6g}" for v in row))


def tile_metadata(
    record: ProductRecord, names: SafeNames, mask_files: Iterable[str], nodata_percent: float
) -> bytes:
    """``MTD_TL.xml``: the tile's geocoding, sun and viewing angle grids, quality indicators."""
    root = ET.Element(f"{{{PSD}/S2_PDI_Level-2A_Tile_Metadata.xsd}}Level-2A_Tile_ID")
    ET.register_namespace("n1", f"{PSD}/S2_PDI_Level-2A_Tile_Metadata.xsd")
    sensing = timefmt.parse_compact(names.granule_sensing)
    general = sub(root, "General_Info")
    sub(general, "L1C_TILE_ID", names.l1c_tile_id)
    sub(general, "TILE_ID", names.tile_id)
    sub(general, "DATASTRIP_ID", names.datastrip_id)
    sub(general, "DOWNLINK_PRIORITY", "NOMINAL")
    sensing_time = timefmt.iso(sensing + timedelta(milliseconds=340), digits=6)
    sub(general, "SENSING_TIME", sensing_time, metadataLevel="Standard")
    archive = sub(general, "Archiving_Info", metadataLevel="Expertise")
    sub(archive, "ARCHIVING_CENTRE", names.centre)
    sub(
        archive,
        "ARCHIVING_TIME",
        timefmt.iso(names.generated_time + timedelta(minutes=3), digits=6),
    )

    geometric = sub(root, "Geometric_Info")
    geocoding = sub(geometric, "Tile_Geocoding", metadataLevel="Brief")
    sub(geocoding, "HORIZONTAL_CS_NAME", f"WGS84 / UTM zone {names.epsg % 100}N")
    sub(geocoding, "HORIZONTAL_CS_CODE", f"EPSG:{names.epsg}")
    xmin, _, _, ymax = utm_bounds(record)
    for resolution in (10, 20, 60):
        size = sub(geocoding, "Size", resolution=resolution)
        sub(size, "NROWS", S2_TILE_SIZE_M // resolution)
        sub(size, "NCOLS", S2_TILE_SIZE_M // resolution)
    for resolution in (10, 20, 60):
        position = sub(geocoding, "Geoposition", resolution=resolution)
        sub(position, "ULX", xmin)
        sub(position, "ULY", ymax)
        sub(position, "XDIM", resolution)
        sub(position, "YDIM", -resolution)

    angles = sub(geometric, "Tile_Angles", metadataLevel="Standard")
    grid_x, grid_y, _ = tile_angle_grid(record)
    xx, yy = np.meshgrid(grid_x, grid_y)
    zenith, azimuth = tile_sun_angles(record)
    sun = sub(angles, "Sun_Angles_Grid")
    _grid(sun, "Zenith", zenith)
    _grid(sun, "Azimuth", azimuth)
    mean_sun = sub(angles, "Mean_Sun_Angle")
    sub(mean_sun, "ZENITH_ANGLE", f"{float(zenith.mean()):.10g}", unit="deg")
    sub(mean_sun, "AZIMUTH_ANGLE", f"{float(azimuth.mean()):.10g}", unit="deg")
    # Viewing angles: the tile is seen by two adjacent detectors of the push-broom, split
    # along a slanted line; zenith grows away from nadir (a little west of the tile here).
    cross = (xx - xmin) / 109800.0
    boundary = 0.45 + 0.1 * (yy - ymax) / -109800.0
    for band_id, _band in enumerate(BANDS):
        for detector, inside in ((4, cross < boundary), (5, cross >= boundary - 0.02)):
            view = sub(
                angles, "Viewing_Incidence_Angles_Grids", bandId=band_id, detectorId=detector
            )
            view_zenith = np.where(inside, 2.5 + 8.5 * cross + 0.05 * band_id, np.nan)
            side = 180.0 if detector % 2 else 0.0
            view_azimuth = np.where(inside, 101.0 + 4.0 * cross + side, np.nan)
            _grid(view, "Zenith", view_zenith)
            _grid(view, "Azimuth", view_azimuth)
    means = sub(angles, "Mean_Viewing_Incidence_Angle_List")
    for band_id, _band in enumerate(BANDS):
        mean = sub(means, "Mean_Viewing_Incidence_Angle", bandId=band_id)
        sub(mean, "ZENITH_ANGLE", f"{6.75 + 0.05 * band_id:.6g}", unit="deg")
        sub(mean, "AZIMUTH_ANGLE", f"{193.2 - 0.3 * band_id:.6g}", unit="deg")

    quality = sub(root, "Quality_Indicators_Info", metadataLevel="Standard")
    content = sub(quality, "Image_Content_QI")
    sub(content, "NODATA_PIXEL_PERCENTAGE", f"{nodata_percent:.6f}")
    sub(content, "SATURATED_DEFECTIVE_PIXEL_PERCENTAGE", "0.000000")
    sub(content, "CLOUDY_PIXEL_PERCENTAGE", f"{record.cloud_cover or 0.0:.6f}")
    pixel = sub(quality, "Pixel_Level_QI", geometry="FULL_RESOLUTION")
    for path in mask_files:
        kind = path.rsplit("/", 1)[-1].split("_")[1]
        sub(pixel, "MASK_FILENAME", path, type=f"MSK_{kind}")
    preview = f"GRANULE/{names.granule}/QI_DATA/T{names.tile}_{names.datatake}_PVI.jp2"
    sub(quality, "PVI_FILENAME", preview)
    return to_bytes(root)
