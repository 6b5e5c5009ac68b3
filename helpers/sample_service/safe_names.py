"""Names and XML conventions of the SAFE replica's documents: product-derived names, helpers.

Why this module exists: the manifest, the metadata documents (`safe_metadata`) and the other
documents of the archive (`safe_documents`) all name the same granule, datastrip and tile, and
write XML the same way; those shared facts live here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import timefmt
from .catalog import (
    ProductRecord,
    footprint,
)

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
    # Derived from the above (`_derived`), as the Products Specification composes them:
    safe: str  # the directory at the top of the archive: "<product>.SAFE"
    granule_sensing: str
    centre: str
    granule: str
    datastrip: str
    spacecraft: str
    tile_id: str
    l1c_tile_id: str
    datastrip_id: str
    datatake_id: str

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
            **_derived(
                record.id,
                platform,
                datatake,
                f"{baseline[1:3]}.{baseline[3:5]}",
                tile[1:],
                generated,
                record.absolute_orbit,
            ),
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


def to_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def sub(parent: ET.Element, tag: str, text: object = None, **attrib: object) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    if text is not None:
        element.text = str(text)
    return element


def footprint_lat_lon(record: ProductRecord) -> list[tuple[float, float]]:
    """The product footprint as (lat, lon) pairs, closed, as SAFE's gml:coordinates lists it."""
    _, geometry = footprint(record)
    return [(lat, lon) for lon, lat in geometry["coordinates"][0]]


def _derived(
    product: str,
    platform: str,
    datatake: str,
    baseline: str,
    tile: str,
    generated: str,
    absolute_orbit: int,
) -> dict[str, str]:
    """Every name a SAFE product derives from its identity, as the PSD composes them.

    The granule sensing time (four seconds after the datatake start) is a plausible choice: the
    real one is not published. Product data item ids read e.g.
    ``S2A_OPER_MSI_L2A_TL_2APS_<generated>_<...>_N05.11``.
    """
    sensing = timefmt.compact(timefmt.parse_compact(datatake) + timedelta(seconds=4))
    centre = f"{platform[1:]}PS"  # processing centre: 2APS for S2A, 2BPS for S2B
    pdi = f"S2{platform[2]}_OPER_MSI_{{}}_{centre}_{generated}_{{}}"
    tile_suffix = f"A{absolute_orbit:06d}_T{tile}_N{baseline}"
    return {
        "safe": f"{product}.SAFE",
        "granule_sensing": sensing,
        "centre": centre,
        "granule": f"L2A_T{tile}_A{absolute_orbit:06d}_{sensing}",
        "datastrip": f"DS_{centre}_{generated}_S{sensing}",
        "spacecraft": f"Sentinel-{platform[1:]}",
        "tile_id": pdi.format("L2A_TL", tile_suffix),
        "l1c_tile_id": pdi.format("L1C_TL", tile_suffix),
        "datastrip_id": pdi.format("L2A_DS", f"S{sensing}_N{baseline}"),
        "datatake_id": f"GS2{platform[2]}_{datatake}_{absolute_orbit:06d}_N{baseline}",
    }
