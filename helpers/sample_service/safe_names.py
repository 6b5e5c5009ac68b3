"""Names and XML conventions of the SAFE replica's documents: product-derived names, helpers.

Why this module exists: the manifest, the metadata documents (`safe_metadata`) and the other
documents of the archive (`safe_documents`) all name the same granule, datastrip and tile, and
fill their templates (``templates/safe/``) the same way; those shared facts live here.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

from . import timefmt
from .catalog import ProductRecord, footprint

TEMPLATES = Path(__file__).parent / "templates" / "safe"
"""The documents of the replica as templates: ``$name`` placeholders, ``repeat`` elements."""

Values = Mapping[str, Any]


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
    # Derived from the above (`from_record`), as the Products Specification composes them:
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
        """The names of ``record``'s SAFE, composed as the PSD composes them.

        Product data item ids read e.g. ``S2A_OPER_MSI_L2A_TL_2APS_<generated>_<...>_N05.11``.
        """
        platform, _, datatake, baseline, orbit, tile, generated = record.id.split("_")
        absolute = record.absolute_orbit
        if absolute is None or record.epsg is None:
            raise ValueError(f"{record.id}: a SAFE replica needs a tiled product with an orbit")
        baseline, tile = f"{baseline[1:3]}.{baseline[3:5]}", tile[1:]
        sensing = timefmt.compact(timefmt.parse_compact(datatake) + timedelta(seconds=4))
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


def render(template: str, values: Values) -> bytes:
    """The XML document ``templates/safe/<template>`` filled with ``values``.

    ``$name`` in a text or an attribute takes ``values[name]`` (`string.Template`); an
    attribute that is only ``$name`` is left out when the value is None. An element with
    ``repeat="rows"`` is written once per mapping in ``values["rows"]``, whose keys fill it and
    its children (nested rows repeat nested elements). The namespaces keep the template's
    prefixes; the output is ElementTree's (two-space indent, UTF-8 declaration), whatever the
    template's layout, so the same product always gives the same bytes.
    """
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for _, (prefix, uri) in ET.iterparse(io.StringIO(text), events=("start-ns",)):
        ET.register_namespace(prefix, uri)
    (root,) = _filled(ET.fromstring(text), values)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _filled(element: ET.Element, values: Values) -> list[ET.Element]:
    """``element`` with its placeholders filled: one copy per row when it repeats."""
    repeat = element.get("repeat")
    scopes = [{**values, **row} for row in values[repeat]] if repeat else [values]
    copies = []
    for scope in scopes:
        copy = ET.Element(element.tag)
        for key, template in element.attrib.items():
            alone = re.fullmatch(r"\$(\w+)", template)
            if key != "repeat" and not (alone and scope[alone[1]] is None):
                copy.set(key, Template(template).substitute(scope))
        if element.text and element.text.strip():
            copy.text = Template(element.text.strip()).substitute(scope)
        for child in element:
            copy.extend(_filled(child, scope))
        copies.append(copy)
    return copies


def footprint_lat_lon(record: ProductRecord) -> str:
    """The product footprint as "lat lon" pairs, closed, as SAFE's position lists write it."""
    _, geometry = footprint(record)
    return " ".join(f"{lat:.6f} {lon:.6f}" for lon, lat in geometry["coordinates"][0]) + " "
