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

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from . import timefmt
from .catalog import (
    INTERNATIONAL_DESIGNATORS,
    S2_TILE_SIZE_M,
    ProductRecord,
    footprint,
    utm_bounds,
)
from .solar import tile_angle_grid, tile_sun_angles

XFDU = "urn:ccsds:schema:xfdu:1"
SAFE_NS = "http://www.esa.int/safe/sentinel/1.1"
GML = "http://www.opengis.net/gml"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PSD = "https://psd-14.sentinel2.eo.esa.int/PSD"
GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"

for _prefix, _uri in {"xfdu": XFDU, "safe": SAFE_NS, "gml": GML, "xsi": XSI}.items():
    ET.register_namespace(_prefix, _uri)
ET.register_namespace("gmd", GMD)
ET.register_namespace("gco", GCO)

BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")
"""The 13 MSI bands in the order of their band index (bandId 0..12) in the metadata."""

BAND_RESOLUTION = {
    "B01": 60,
    "B02": 10,
    "B03": 10,
    "B04": 10,
    "B05": 20,
    "B06": 20,
    "B07": 20,
    "B08": 10,
    "B8A": 20,
    "B09": 60,
    "B10": 60,
    "B11": 20,
    "B12": 20,
}

SCENE_CLASSES = (
    "NO_DATA",
    "SATURATED_DEFECTIVE",
    "DARK_AREA_PIXELS",
    "CLOUD_SHADOWS",
    "VEGETATION",
    "NOT_VEGETATED",
    "WATER",
    "UNCLASSIFIED",
    "CLOUD_MEDIUM_PROBABILITY",
    "CLOUD_HIGH_PROBABILITY",
    "THIN_CIRRUS",
    "SNOW",
)
"""The L2A scene classification (SCL) classes 0..11, as the product metadata names them."""


@dataclass(frozen=True)
class SafeNames:
    """The names a Sentinel-2 L2A SAFE product derives from its identifier.

    The product id ``S2A_MSIL2A_<datatake start>_N<baseline>_R<orbit>_T<tile>_<discriminator>``
    gives the platform, datatake sensing start, processing baseline, relative orbit, tile and
    generation time; the absolute orbit comes from the catalogue record. The granule sensing time
    (four seconds after the datatake start) is a plausible choice: the real one is not published.
    """

    product: str
    platform: str  # "S2A"
    datatake: str  # "20250605T104701"
    baseline: str  # "05.11"
    relative_orbit: int
    tile: str  # "35WMU"
    generated: str  # "20250605T125416"
    absolute_orbit: int
    epsg: int

    @classmethod
    def from_record(cls, record: ProductRecord) -> SafeNames:
        platform, _, datatake, baseline, orbit, tile, generated = record.id.split("_")
        if record.absolute_orbit is None or record.epsg is None:
            raise ValueError(f"{record.id}: a SAFE replica needs a tiled product with an orbit")
        return cls(
            product=record.id,
            platform=platform,
            datatake=datatake,
            baseline=f"{baseline[1:3]}.{baseline[3:5]}",
            relative_orbit=int(orbit[1:]),
            tile=tile[1:],
            generated=generated,
            absolute_orbit=record.absolute_orbit,
            epsg=record.epsg,
        )

    @property
    def generated_time(self) -> datetime:
        """When the product was generated, from its name."""
        return timefmt.parse_compact(self.generated)

    @property
    def safe(self) -> str:
        """The directory name at the top of the archive: ``<product>.SAFE``."""
        return f"{self.product}.SAFE"

    @property
    def granule_sensing(self) -> str:
        return timefmt.compact(timefmt.parse_compact(self.datatake) + timedelta(seconds=4))

    @property
    def centre(self) -> str:
        """Processing centre code in granule and datastrip names (2APS for S2A, 2BPS for S2B)."""
        return f"{self.platform[1:]}PS"

    @property
    def granule(self) -> str:
        return f"L2A_T{self.tile}_A{self.absolute_orbit:06d}_{self.granule_sensing}"

    @property
    def datastrip(self) -> str:
        return f"DS_{self.centre}_{self.generated}_S{self.granule_sensing}"

    @property
    def spacecraft(self) -> str:
        return f"Sentinel-{self.platform[1:]}"

    def _pdi(self, kind: str, suffix: str) -> str:
        """A product data item id, e.g. ``S2A_OPER_MSI_L2A_TL_2APS_<generated>_<...>_N05.11``."""
        return f"S2{self.platform[2]}_OPER_MSI_{kind}_{self.centre}_{self.generated}_{suffix}"

    @property
    def tile_id(self) -> str:
        return self._pdi("L2A_TL", f"A{self.absolute_orbit:06d}_T{self.tile}_N{self.baseline}")

    @property
    def l1c_tile_id(self) -> str:
        return self._pdi("L1C_TL", f"A{self.absolute_orbit:06d}_T{self.tile}_N{self.baseline}")

    @property
    def datastrip_id(self) -> str:
        return self._pdi("L2A_DS", f"S{self.granule_sensing}_N{self.baseline}")

    @property
    def datatake_id(self) -> str:
        return f"GS2{self.platform[2]}_{self.datatake}_{self.absolute_orbit:06d}_N{self.baseline}"

    def expand(self, href: str) -> str:
        """Fill a generalised file location (``{granule}``, ``{tile}``, ...) for this product."""
        return href.format(
            granule=self.granule,
            datastrip=self.datastrip,
            tile=f"T{self.tile}",
            datatake=self.datatake,
        )


def _to_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _sub(parent: ET.Element, tag: str, text: object = None, **attrib: object) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    if text is not None:
        element.text = str(text)
    return element


def _footprint_lat_lon(record: ProductRecord) -> list[tuple[float, float]]:
    """The product footprint as (lat, lon) pairs, closed, as SAFE's gml:coordinates lists it."""
    _, geometry = footprint(record)
    return [(lat, lon) for lon, lat in geometry["coordinates"][0]]


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
    package = _sub(root, "informationPackageMap")
    product_unit = _sub(
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
                units[parent_name] = _sub(
                    product_unit, f"{{{XFDU}}}contentUnit", ID=uid, textInfo=text
                )
            parent = units[parent_name]
        else:
            parent = container(parent_name)
        uid, text = _CONTAINERS[name]
        units[name] = _sub(parent, f"{{{XFDU}}}contentUnit", ID=uid, textInfo=text)
        return units[name]

    for entry in entries:
        attrib = {"ID": entry.unit}
        if entry.text_info:
            attrib["textInfo"] = entry.text_info
        attrib["unitType"] = entry.unit_type
        unit = _sub(container(entry.container), f"{{{XFDU}}}contentUnit", **attrib)
        _sub(unit, "dataObjectPointer", dataObjectID=entry.id)
    _sub(product_unit, f"{{{XFDU}}}contentUnit", ID="AuxData", textInfo="Auxiliary Data container")

    section = _sub(root, "metadataSection")
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
        obj = _sub(
            section,
            "metadataObject",
            ID=object_id,
            category=category,
            classification=classification,
        )
        wrap = _sub(
            obj,
            "metadataWrap",
            mimeType="text/xml",
            textInfo=text,
            vocabularyName="Sentinel-SAFE",
        )
        data[object_id] = _sub(wrap, "xmlData")
    period = _sub(data["acquisitionPeriod"], f"{{{SAFE_NS}}}acquisitionPeriod")
    _sub(period, f"{{{SAFE_NS}}}startTime", timefmt.iso(start, digits=3))
    orbit = _sub(data["measurementOrbitReference"], f"{{{SAFE_NS}}}orbitReference")
    _sub(
        orbit,
        f"{{{SAFE_NS}}}orbitNumber",
        f"{names.absolute_orbit:06d}",
        groundTrackDirection="descending",
        type="start",
    )
    _sub(orbit, f"{{{SAFE_NS}}}relativeOrbitNumber", f"{names.relative_orbit:03d}", type="start")
    platform = _sub(data["platform"], f"{{{SAFE_NS}}}platform")
    _sub(
        platform,
        f"{{{SAFE_NS}}}nssdcIdentifier",
        INTERNATIONAL_DESIGNATORS[f"sentinel-{names.platform[1:].lower()}"],
    )
    _sub(platform, f"{{{SAFE_NS}}}familyName", "SENTINEL")
    _sub(platform, f"{{{SAFE_NS}}}number", names.platform[1:])
    instrument = _sub(platform, f"{{{SAFE_NS}}}instrument")
    _sub(instrument, f"{{{SAFE_NS}}}familyName", "Multi-Spectral Instrument", abbreviation="MSI")
    _sub(
        data["processing"],
        f"{{{SAFE_NS}}}processing",
        name="Generation of Level-2A User Product",
        start=timefmt.iso(names.generated_time, digits=6),
    )
    frame = _sub(data["measurementFrameSet"], f"{{{SAFE_NS}}}frameSet")
    foot = _sub(
        frame, f"{{{SAFE_NS}}}footPrint", srsName="http://www.opengis.net/gml/srs/epsg.xml#4326"
    )
    coordinates = " ".join(f"{lat:.6f} {lon:.6f}" for lat, lon in _footprint_lat_lon(record))
    _sub(foot, f"{{{GML}}}coordinates", coordinates + " ")
    for pointer_id, described in (
        ("S2_Level-2A_Product_Metadata_Information", "S2_Level-2A_Product_Metadata"),
        ("INSPIRE_Metadata_Information", "INSPIRE_Metadata"),
        ("S2_Level-2A_Datastrip1_Metadata_Information", "S2_Level-2A_Datastrip1_Metadata"),
        ("S2_Level-2A_Tile1_Metadata_Information", "S2_Level-2A_Tile1_Metadata"),
    ):
        obj = _sub(
            section, "metadataObject", ID=pointer_id, category="DMD", classification="DESCRIPTION"
        )
        _sub(obj, "dataObjectPointer", dataObjectID=described)

    objects = _sub(root, "dataObjectSection")
    for entry in entries:
        obj = _sub(objects, "dataObject", ID=entry.id)
        stream = _sub(obj, "byteStream", mimeType=entry.mime, size=entry.size)
        _sub(stream, "fileLocation", href=entry.href, locatorType="URL")
        _sub(stream, "checksum", entry.sha3_256, checksumName="SHA3-256")
    return _to_bytes(root)


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
    general = _sub(root, "General_Info")
    info = _sub(general, "Product_Info")
    _sub(info, "PRODUCT_START_TIME", timefmt.iso(start, digits=3))
    _sub(info, "PRODUCT_STOP_TIME", timefmt.iso(start, digits=3))
    _sub(info, "PRODUCT_URI", names.safe)
    _sub(info, "PROCESSING_LEVEL", "Level-2A")
    _sub(info, "PRODUCT_TYPE", "S2MSI2A")
    _sub(info, "PROCESSING_BASELINE", names.baseline)
    _sub(info, "PRODUCT_DOI", "https://doi.org/10.5270/S2_-znk9xsj")
    _sub(info, "GENERATION_TIME", timefmt.iso(names.generated_time, digits=6))
    _sub(info, "PREVIEW_IMAGE_URL", "Not applicable")
    _sub(info, "PREVIEW_GEO_INFO", "Not applicable")
    take = _sub(info, "Datatake", datatakeIdentifier=names.datatake_id)
    _sub(take, "DATATAKE_TYPE", "INS-NOBS")
    _sub(take, "SPACECRAFT_NAME", names.spacecraft)
    _sub(take, "DATATAKE_SENSING_START", timefmt.iso(start, digits=3))
    _sub(take, "SENSING_ORBIT_NUMBER", names.relative_orbit)
    _sub(take, "SENSING_ORBIT_DIRECTION", "DESCENDING")
    options = _sub(info, "Query_Options", completeSingleTile="true")
    _sub(options, "PRODUCT_FORMAT", "SAFE_COMPACT")
    organisation = _sub(info, "Product_Organisation")
    granule_list = _sub(organisation, "Granule_List")
    granule = _sub(
        granule_list,
        "Granule",
        datastripIdentifier=names.datastrip_id,
        granuleIdentifier=names.tile_id,
        imageFormat="JPEG2000",
    )
    for path in image_files:
        _sub(granule, "IMAGE_FILE", path.removesuffix(".jp2"))

    characteristics = _sub(general, "Product_Image_Characteristics")
    for kind, value in (("NODATA", 0), ("SATURATED", 65535)):
        special = _sub(characteristics, "Special_Values")
        _sub(special, "SPECIAL_VALUE_TEXT", kind)
        _sub(special, "SPECIAL_VALUE_INDEX", value)
    order = _sub(characteristics, "Image_Display_Order")
    for colour, index in (("RED_CHANNEL", 3), ("GREEN_CHANNEL", 2), ("BLUE_CHANNEL", 1)):
        _sub(order, colour, index)
    quant = _sub(characteristics, "QUANTIFICATION_VALUES_LIST")
    _sub(quant, "BOA_QUANTIFICATION_VALUE", 10000, unit="none")
    _sub(quant, "AOT_QUANTIFICATION_VALUE", "1000.0", unit="none")
    _sub(quant, "WVP_QUANTIFICATION_VALUE", "1000.0", unit="cm")
    offsets = _sub(characteristics, "BOA_ADD_OFFSET_VALUES_LIST")
    for band_id, _band in enumerate(BANDS):
        _sub(offsets, "BOA_ADD_OFFSET", -1000, band_id=band_id)
    spectral = _sub(characteristics, "Spectral_Information_List")
    for band_id, band in enumerate(BANDS):
        item = _sub(
            spectral, "Spectral_Information", bandId=band_id, physicalBand=band.replace("B0", "B")
        )
        _sub(item, "RESOLUTION", BAND_RESOLUTION[band])
    _sub(characteristics, "PHYSICAL_GAINS", "Not applicable")
    _sub(characteristics, "REFERENCE_BAND", 1)
    classes = _sub(characteristics, "Scene_Classification_List")
    for index, name in enumerate(SCENE_CLASSES):
        cls = _sub(classes, "Scene_Classification_ID")
        _sub(cls, "SCENE_CLASSIFICATION_TEXT", f"SC_{name}")
        _sub(cls, "SCENE_CLASSIFICATION_INDEX", index)

    geometric = _sub(root, "Geometric_Info")
    foot = _sub(_sub(_sub(geometric, "Product_Footprint"), "Product_Footprint"), "Global_Footprint")
    positions = " ".join(f"{lat:.6f} {lon:.6f}" for lat, lon in _footprint_lat_lon(record))
    _sub(foot, "EXT_POS_LIST", positions + " ")
    crs = _sub(geometric, "Coordinate_Reference_System")
    _sub(crs, "GEO_TABLES", "EPSG", version="1.0")
    _sub(crs, "HORIZONTAL_CS_TYPE", "GEOGRAPHIC")

    quality = _sub(root, "Quality_Indicators_Info")
    _sub(quality, "Cloud_Coverage_Assessment", f"{record.cloud_cover or 0.0:.6f}")
    technical = _sub(quality, "Technical_Quality_Assessment")
    _sub(technical, "DEGRADED_ANC_DATA_PERCENTAGE", "0.0")
    _sub(technical, "DEGRADED_MSI_DATA_PERCENTAGE", 0)
    content = _sub(quality, "Image_Content_QI")
    _sub(content, "NODATA_PIXEL_PERCENTAGE", f"{nodata_percent:.6f}")
    _sub(content, "CLOUDY_PIXEL_OVER_LAND_PERCENTAGE", f"{record.cloud_cover or 0.0:.6f}")
    return _to_bytes(root)


# --- MTD_TL.xml -------------------------------------------------------------------------------


def _grid(parent: ET.Element, tag: str, values: np.ndarray) -> None:
    """An angle grid as the tile metadata writes it: 5 km steps, one VALUES line per row."""
    node = _sub(parent, tag)
    _sub(node, "COL_STEP", 5000, unit="m")
    _sub(node, "ROW_STEP", 5000, unit="m")
    rows = _sub(node, "Values_List")
    for row in values:
        _sub(rows, "VALUES", " ".join("NaN" if np.isnan(v) else f"{v:.6g}" for v in row))


def tile_metadata(
    record: ProductRecord, names: SafeNames, mask_files: Iterable[str], nodata_percent: float
) -> bytes:
    """``MTD_TL.xml``: the tile's geocoding, sun and viewing angle grids, quality indicators."""
    root = ET.Element(f"{{{PSD}/S2_PDI_Level-2A_Tile_Metadata.xsd}}Level-2A_Tile_ID")
    ET.register_namespace("n1", f"{PSD}/S2_PDI_Level-2A_Tile_Metadata.xsd")
    sensing = timefmt.parse_compact(names.granule_sensing)
    general = _sub(root, "General_Info")
    _sub(general, "L1C_TILE_ID", names.l1c_tile_id)
    _sub(general, "TILE_ID", names.tile_id)
    _sub(general, "DATASTRIP_ID", names.datastrip_id)
    _sub(general, "DOWNLINK_PRIORITY", "NOMINAL")
    sensing_time = timefmt.iso(sensing + timedelta(milliseconds=340), digits=6)
    _sub(general, "SENSING_TIME", sensing_time, metadataLevel="Standard")
    archive = _sub(general, "Archiving_Info", metadataLevel="Expertise")
    _sub(archive, "ARCHIVING_CENTRE", names.centre)
    _sub(
        archive,
        "ARCHIVING_TIME",
        timefmt.iso(names.generated_time + timedelta(minutes=3), digits=6),
    )

    geometric = _sub(root, "Geometric_Info")
    geocoding = _sub(geometric, "Tile_Geocoding", metadataLevel="Brief")
    _sub(geocoding, "HORIZONTAL_CS_NAME", f"WGS84 / UTM zone {names.epsg % 100}N")
    _sub(geocoding, "HORIZONTAL_CS_CODE", f"EPSG:{names.epsg}")
    xmin, _, _, ymax = utm_bounds(record)
    for resolution in (10, 20, 60):
        size = _sub(geocoding, "Size", resolution=resolution)
        _sub(size, "NROWS", S2_TILE_SIZE_M // resolution)
        _sub(size, "NCOLS", S2_TILE_SIZE_M // resolution)
    for resolution in (10, 20, 60):
        position = _sub(geocoding, "Geoposition", resolution=resolution)
        _sub(position, "ULX", xmin)
        _sub(position, "ULY", ymax)
        _sub(position, "XDIM", resolution)
        _sub(position, "YDIM", -resolution)

    angles = _sub(geometric, "Tile_Angles", metadataLevel="Standard")
    grid_x, grid_y, _ = tile_angle_grid(record)
    xx, yy = np.meshgrid(grid_x, grid_y)
    zenith, azimuth = tile_sun_angles(record)
    sun = _sub(angles, "Sun_Angles_Grid")
    _grid(sun, "Zenith", zenith)
    _grid(sun, "Azimuth", azimuth)
    mean_sun = _sub(angles, "Mean_Sun_Angle")
    _sub(mean_sun, "ZENITH_ANGLE", f"{float(zenith.mean()):.10g}", unit="deg")
    _sub(mean_sun, "AZIMUTH_ANGLE", f"{float(azimuth.mean()):.10g}", unit="deg")
    # Viewing angles: the tile is seen by two adjacent detectors of the push-broom, split
    # along a slanted line; zenith grows away from nadir (a little west of the tile here).
    cross = (xx - xmin) / 109800.0
    boundary = 0.45 + 0.1 * (yy - ymax) / -109800.0
    for band_id, _band in enumerate(BANDS):
        for detector, inside in ((4, cross < boundary), (5, cross >= boundary - 0.02)):
            view = _sub(
                angles, "Viewing_Incidence_Angles_Grids", bandId=band_id, detectorId=detector
            )
            view_zenith = np.where(inside, 2.5 + 8.5 * cross + 0.05 * band_id, np.nan)
            side = 180.0 if detector % 2 else 0.0
            view_azimuth = np.where(inside, 101.0 + 4.0 * cross + side, np.nan)
            _grid(view, "Zenith", view_zenith)
            _grid(view, "Azimuth", view_azimuth)
    means = _sub(angles, "Mean_Viewing_Incidence_Angle_List")
    for band_id, _band in enumerate(BANDS):
        mean = _sub(means, "Mean_Viewing_Incidence_Angle", bandId=band_id)
        _sub(mean, "ZENITH_ANGLE", f"{6.75 + 0.05 * band_id:.6g}", unit="deg")
        _sub(mean, "AZIMUTH_ANGLE", f"{193.2 - 0.3 * band_id:.6g}", unit="deg")

    quality = _sub(root, "Quality_Indicators_Info", metadataLevel="Standard")
    content = _sub(quality, "Image_Content_QI")
    _sub(content, "NODATA_PIXEL_PERCENTAGE", f"{nodata_percent:.6f}")
    _sub(content, "SATURATED_DEFECTIVE_PIXEL_PERCENTAGE", "0.000000")
    _sub(content, "CLOUDY_PIXEL_PERCENTAGE", f"{record.cloud_cover or 0.0:.6f}")
    pixel = _sub(quality, "Pixel_Level_QI", geometry="FULL_RESOLUTION")
    for path in mask_files:
        kind = path.rsplit("/", 1)[-1].split("_")[1]
        _sub(pixel, "MASK_FILENAME", path, type=f"MSK_{kind}")
    preview = f"GRANULE/{names.granule}/QI_DATA/T{names.tile}_{names.datatake}_PVI.jp2"
    _sub(quality, "PVI_FILENAME", preview)
    return _to_bytes(root)


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
    general = _sub(root, "General_Info")
    _sub(general, "DATASTRIP_ID", names.datastrip_id)
    _sub(general, "DOWNLINK_PRIORITY", "NOMINAL")
    _sub(general, "DATATAKE_ID", names.datatake_id)
    _sub(general, "DATASTRIP_SENSING_START", timefmt.iso(start, digits=6))
    _sub(general, "DATASTRIP_SENSING_STOP", timefmt.iso(start + timedelta(seconds=412), digits=6))
    processing = _sub(general, "Processing_Info")
    _sub(processing, "PROCESSING_CENTER", names.centre)
    _sub(processing, "UTC_DATE_TIME", timefmt.iso(names.generated_time, digits=6))
    _sub(processing, "PROCESSING_BASELINE", names.baseline)
    ancillary = _sub(root, "Satellite_Ancillary_Data_Info")
    _sub(_sub(ancillary, "Ephemeris"), "GPS_Points_List", "@POINTS@")
    _sub(_sub(ancillary, "Attitudes"), "Corrected_Attitudes", "@ATTITUDES@")
    skeleton = _to_bytes(root).decode()

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
        _sub(_sub(parent, f"{{{GMD}}}{tag}"), f"{{{GCO}}}CharacterString", value)

    text(root, "fileIdentifier", names.product)
    language = _sub(root, f"{{{GMD}}}language")
    codes = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml"
    _sub(
        language,
        f"{{{GMD}}}LanguageCode",
        "eng",
        codeList="http://www.loc.gov/standards/iso639-2/",
        codeListValue="eng",
    )
    level = _sub(root, f"{{{GMD}}}hierarchyLevel")
    _sub(
        level,
        f"{{{GMD}}}MD_ScopeCode",
        "dataset",
        codeList=f"{codes}#MD_ScopeCode",
        codeListValue="dataset",
    )
    contact = _sub(_sub(root, f"{{{GMD}}}contact"), f"{{{GMD}}}CI_ResponsibleParty")
    text(contact, "organisationName", "ESA")
    date = _sub(root, f"{{{GMD}}}dateStamp")
    _sub(date, f"{{{GCO}}}Date", names.generated_time.strftime("%Y-%m-%d"))
    ident = _sub(_sub(root, f"{{{GMD}}}identificationInfo"), f"{{{GMD}}}MD_DataIdentification")
    citation = _sub(_sub(ident, f"{{{GMD}}}citation"), f"{{{GMD}}}CI_Citation")
    text(citation, "title", names.product)
    abstract = (
        f"{names.spacecraft} MSI Level-2A bottom-of-atmosphere reflectance, tile T{names.tile}, "
        f"relative orbit R{names.relative_orbit:03d}."
    )
    text(ident, "abstract", abstract)
    bbox, _ = footprint(record)
    extent = _sub(_sub(ident, f"{{{GMD}}}extent"), f"{{{GMD}}}EX_Extent")
    box = _sub(_sub(extent, f"{{{GMD}}}geographicElement"), f"{{{GMD}}}EX_GeographicBoundingBox")
    for tag, value in zip(
        ("westBoundLongitude", "southBoundLatitude", "eastBoundLongitude", "northBoundLatitude"),
        bbox,
        strict=True,
    ):
        _sub(_sub(box, f"{{{GMD}}}{tag}"), f"{{{GCO}}}Decimal", f"{value:.6f}")
    return _to_bytes(root)


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
    template = _sub(root, f"{{{xsl}}}template", match="/")
    html = _sub(template, "html")
    body = _sub(html, "body")
    heading = _sub(body, "h1")
    _sub(heading, f"{{{xsl}}}value-of", select="//PRODUCT_URI")
    table = _sub(body, "table")
    for field in ("PRODUCT_TYPE", "PROCESSING_BASELINE", "GENERATION_TIME", "SPACECRAFT_NAME"):
        row = _sub(table, "tr")
        _sub(row, "td", field)
        _sub(_sub(row, "td"), f"{{{xsl}}}value-of", select=f"//{field}")
    return _to_bytes(root)


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
    header = _sub(_sub(root, "Earth_Explorer_Header"), "Fixed_Header")
    _sub(header, "File_Name", f"S2{names.platform[2]}_OPER_{report}_{scope}")
    _sub(header, "File_Description", "Report produced by OLQC-SC")
    _sub(header, "Mission", names.spacecraft.upper())
    _sub(header, "File_Class", "OPER")
    _sub(header, "File_Type", report[:10])
    source = _sub(header, "Source")
    _sub(source, "System", names.centre)
    _sub(source, "Creation_Date", f"UTC={timefmt.iso(names.generated_time, digits=3)[:-5]}")
    block = _sub(root, "Data_Block", type="xml")
    checks = _sub(
        _sub(block, "report", date=timefmt.iso(names.generated_time, digits=3)), "checkList"
    )
    _sub(checks, "parentID", scope)
    _sub(checks, "name", report)
    _sub(checks, "version", "1.0")
    for check in _QI_CHECKS[report]:
        node = _sub(checks, "check")
        _sub(
            node,
            "inspection",
            execution=timefmt.iso(names.generated_time, digits=3),
            id=check,
            status="PASSED",
        )
        _sub(node, "message", f"{check.replace('_', ' ')} check passed", contentType="text/plain")
    return _to_bytes(root)
