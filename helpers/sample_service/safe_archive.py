"""The SAFE zip archive of the sample service: built once, cached on disk with a digest, verified.

Why this module exists: the book's comparison of SAFE with EOPF Zarr is only honest if the SAFE
side downloads what a reader of the real service downloads: a zip of about 170 MB (the seed's
published figure for this product) laid out as a real Sentinel-2 L2A SAFE, of which the reader
uses one small JPEG 2000 file. Generating it takes seconds, so it is built once and kept in the
service's integrity-checked cache (`cache.VerifiedCache`, the format the chunks use); a cached
archive that fails its check is logged and rebuilt.

What is real and what is filler:

- The member list, file locations, MIME types and sizes come from the manifest of a real L2A
  product (``templates/safe/l2a_data_objects.json``, source named there). That product covers
  its whole tile (about 1 GB); the seed's product covers part of its tile, so the image members
  are scaled by one coverage fraction chosen so that the whole archive comes to
  ``target_bytes``.
- The TCI 60 m member is a real, lossless JPEG 2000 of the same synthetic scene the Zarr
  quicklook serves (``scenes.quicklook_tci(record, 60)``), so both paths show the same picture.
  The preview (``PVI``) and the distribution quicklook (``-ql.jpg``) are real images of it too.
- The XML documents are templates filled for this product (``safe_metadata``).
- Every other member (the other bands, masks, auxiliary GRIB files) is incompressible filler of
  its size: nobody reads them, but they cost their real bytes on the wire.

JPEG 2000 and JPEG members are stored (they are compressed already); text members are deflated.
The manifest lists every data object with its size and SHA3-256 checksum, as real ones do.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import zipfile
import zlib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

from . import safe_documents as docs
from . import safe_metadata as meta
from .cache import StoredFile, VerifiedCache, content_digest
from .catalog import ProductRecord
from .scenes import quicklook_tci
from .settings import cache_dir

LOG = logging.getLogger("helpers.sample_service")

TARGET_BYTES = 170_000_000
"""The archive size the seed published for this product: 170 MB (its progress bar printed 170
dots of 1 MB chunks)."""


@functools.cache
def content_version() -> str:
    """A digest of everything that decides the archive's bytes.

    The code and data the archive is made from (this module, the XML generator, the catalogue,
    the synthetic scenes: the TCI member must stay identical to the Zarr quicklook), and the
    versions of numpy (filler) and Pillow (JPEG 2000 encoder). An archive cached under another
    version is rebuilt, as chunks are. Computed once per process: it describes the code this
    process runs.
    """
    return content_digest(
        (
            "safe_archive.py",
            "safe_metadata.py",
            "safe_documents.py",
            "safe_names.py",
            "catalog.py",
            "solar.py",
            "timefmt.py",
        ),
        ("scenes/*.py", "templates/safe/*", "templates/catalogue/*.json"),
        f"numpy {np.__version__} pillow {PIL.__version__}",
    )


TCI_60M = "IMG_DATA_Band_TCI_60m_Tile1_Data"
"""The manifest ID of the member the seed reads: the 60 m true-colour image."""

_ZIP_TIME = (2025, 6, 5, 12, 54, 16)  # the product's generation time
_PREVIEW_SIZE = 343  # pixels: the PVI of a real L2A tile is 343 x 343


@dataclass(frozen=True)
class Member:
    """One file of the archive, relative to the ``<product>.SAFE/`` directory."""

    path: str
    size: int
    data_object_id: str | None
    """The manifest's ``dataObject`` ID, or None for files the manifest does not list (the
    manifest itself and the distribution quicklook, as in archives served by CDSE)."""
    mime: str = "application/octet-stream"


def _data_objects() -> list[dict]:
    text = resources.files("helpers.sample_service").joinpath(
        "templates/safe/l2a_data_objects.json"
    )
    return json.loads(text.read_text(encoding="utf-8"))["data_objects"]


def _filler(path: str, size: int) -> bytes:
    """Incompressible bytes of ``size``, the same on every build (seeded by the member's path)."""
    seed = int.from_bytes(hashlib.sha256(path.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).bytes(size)


def _deflated_size(data: bytes) -> int:
    """The size zipfile's default deflate gives ``data`` (same level and window as zipfile)."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return len(compressor.compress(data) + compressor.flush())


def _jp2(pixels: np.ndarray) -> bytes:
    """A lossless JPEG 2000 (JP2 container) of an (rows, cols, 3) uint8 image, as S2 TCIs are."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG2000", no_jp2=False, irreversible=False)
    return buffer.getvalue()


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _preview(tci: np.ndarray) -> np.ndarray:
    image = Image.fromarray(tci).resize((_PREVIEW_SIZE, _PREVIEW_SIZE), Image.Resampling.BOX)
    return np.asarray(image)


def _tci_60m(record: ProductRecord) -> np.ndarray:
    """The 60 m true-colour image, (1830, 1830, 3) uint8: the Zarr quicklook's pixels."""
    return np.ascontiguousarray(np.moveaxis(quicklook_tci(record, 60), 0, -1))


def quicklook_jpeg(record: ProductRecord) -> bytes:
    """The distribution quicklook (``<product>-ql.jpg``, also the catalogue's QUICKLOOK asset)."""
    return _jpeg(_preview(_tci_60m(record)))


class SafeArchive:
    """The sample SAFE archive of one Sentinel-2 L2A product, cached under ``cache_dir``.

    ``ensure()`` returns the verified archive (a `cache.StoredFile`), building it first when
    needed. It is an entry of the service's one cache format (`cache.VerifiedCache`): builds are
    serialised within a process; across processes each build writes a private temporary file
    and renames it into place, and since builds are deterministic a concurrent rebuild yields
    the same bytes.
    """

    def __init__(
        self, record: ProductRecord, cache_dir: Path, target_bytes: int = TARGET_BYTES
    ) -> None:
        self.record = record
        self.names = meta.SafeNames.from_record(record)
        self.cache_dir = Path(cache_dir)
        self.target_bytes = target_bytes
        self._cache = VerifiedCache(self.cache_dir)
        self.filename = f"{self.names.safe}.zip"
        """The name a download gets: ``<product>.SAFE.zip``."""
        self.slot = f"{self.filename}.cached"
        """The cache file holding the archive (a cache entry: header, then the zip)."""
        self.path = self.cache_dir / self.slot

    @property
    def key(self) -> str:
        """The cache key: what the archive is and which generator and size made it."""
        return f"safe-archive/{content_version()}/{self.target_bytes}/{self.filename}"

    # --- the real images ----------------------------------------------------------------------

    @cached_property
    def tci_60m(self) -> np.ndarray:
        """The 60 m true-colour image, (1830, 1830, 3) uint8: the Zarr quicklook's pixels."""
        return _tci_60m(self.record)

    # --- contents -----------------------------------------------------------------------------

    def _rendered(self) -> dict[str, bytes]:
        """Every member whose bytes are generated (not filler), except the manifest."""
        names = self.names
        objects = _data_objects()
        image_files = [names.expand(o["href"])[2:] for o in objects if o["container"] == "img"]
        mask_files = [
            names.expand(o["href"])[2:]
            for o in objects
            if o["container"] == "tile_qi" and o["href"].endswith(".jp2") and "PVI" not in o["href"]
        ]
        nodata = 100.0 * float(np.mean(np.all(self.tci_60m == 0, axis=-1)))
        preview = _preview(self.tci_60m)
        rendered: dict[str, bytes] = {}
        for obj in objects:
            path = names.expand(obj["href"])[2:]
            kind = obj["kind"]
            if kind == "product_metadata":
                data = meta.product_metadata(self.record, names, image_files, nodata)
            elif kind == "inspire":
                data = docs.inspire(self.record, names)
            elif kind == "html":
                data = docs.html_index(names)
            elif kind == "html_xsl":
                data = docs.html_stylesheet()
            elif kind == "datastrip_metadata":
                data = docs.datastrip_metadata(names, obj["template_size"])
            elif kind == "tile_metadata":
                data = meta.tile_metadata(self.record, names, mask_files, nodata)
            elif kind == "qi_report":
                report = path.rsplit("/", 1)[-1].removesuffix(".xml")
                scope = names.datastrip if obj["container"] == "datastrip_qi" else names.granule
                data = docs.qi_report(names, report, scope)
            elif kind == "tci60":
                data = _jp2(self.tci_60m)
            elif kind == "preview":
                data = _jp2(preview)
            else:
                continue
            rendered[path] = data
        rendered[f"{names.product}-ql.jpg"] = _jpeg(preview)
        return rendered

    @staticmethod
    def _compressed(path: str) -> bool:
        return not path.endswith((".jp2", ".jpg")) and "AUX_DATA" not in path

    def _entry_overhead(self, path: str) -> int:
        """Zip bytes around one member: its local header and its central directory record."""
        name = len(f"{self.names.safe}/{path}".encode())
        return 30 + name + 46 + name

    def members(self, rendered: dict[str, bytes] | None = None) -> list[Member]:
        """Every member but the manifest, with its size: manifest order, then the quicklook.

        The coverage fraction applied to the image members is solved so that the zip comes to
        ``target_bytes`` (never below a thousandth of the template, for tiny test archives).
        """
        if rendered is None:
            rendered = self._rendered_cache
        names = self.names
        objects = _data_objects()
        scaled = [o for o in objects if o["kind"] in ("image", "mask_coverage")]
        fixed_zip = 22  # end-of-central-directory record
        for obj in objects:
            path = names.expand(obj["href"])[2:]
            fixed_zip += self._entry_overhead(path)
            if path in rendered:
                data = rendered[path]
                fixed_zip += _deflated_size(data) if self._compressed(path) else len(data)
            elif obj not in scaled:
                fixed_zip += obj["template_size"]
        for extra in (f"{names.product}-ql.jpg",):
            fixed_zip += self._entry_overhead(extra) + len(rendered[extra])
        # The manifest itself (written last, once the checksums are known): about 70 kB of XML
        # for 86 data objects, which deflate to about 10 kB.
        fixed_zip += self._entry_overhead("manifest.safe") + 10_000
        scalable = sum(o["template_size"] for o in scaled)
        fraction = max((self.target_bytes - fixed_zip) / scalable, 0.001)

        members: list[Member] = []
        for obj in objects:
            path = names.expand(obj["href"])[2:]
            if path in rendered:
                size = len(rendered[path])
            elif obj in scaled:
                size = max(1, round(obj["template_size"] * fraction))
            else:
                size = obj["template_size"]
            members.append(Member(path, size, obj["id"], obj["mime"]))
        quicklook = f"{names.product}-ql.jpg"
        members.append(Member(quicklook, len(rendered[quicklook]), None, "image/jpeg"))
        return members

    @cached_property
    def _rendered_cache(self) -> dict[str, bytes]:
        return self._rendered()

    # --- build ----------------------------------------------------------------------------------

    def _write(self, target: Path) -> None:
        """Write the archive to ``target``: members in manifest order, the manifest last."""
        rendered = self._rendered_cache
        members = self.members(rendered)
        objects = {o["id"]: o for o in _data_objects()}
        entries: list[meta.DataObjectEntry] = []
        with zipfile.ZipFile(target, "w", allowZip64=True) as archive:

            def add(path: str, data: bytes) -> None:
                info = zipfile.ZipInfo(f"{self.names.safe}/{path}", date_time=_ZIP_TIME)
                info.compress_type = (
                    zipfile.ZIP_DEFLATED if self._compressed(path) else zipfile.ZIP_STORED
                )
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)

            for member in members:
                data = rendered.get(member.path)
                if data is None:
                    data = _filler(member.path, member.size)
                add(member.path, data)
                if member.data_object_id is not None:
                    obj = objects[member.data_object_id]
                    entries.append(
                        meta.DataObjectEntry(
                            id=obj["id"],
                            href=f"./{member.path}",
                            mime=obj["mime"],
                            size=len(data),
                            sha3_256=hashlib.sha3_256(data).hexdigest(),
                            container=obj["container"],
                            unit=obj["unit"],
                            unit_type=obj["unit_type"],
                            text_info=obj["text_info"],
                        )
                    )
            add("manifest.safe", meta.manifest(self.record, self.names, entries))

    def ensure(self) -> StoredFile:
        """The verified cached archive, built first when missing, damaged or out of date."""
        stored = self._cache.get_or_create_file(
            self.slot, self.key, self._build, "sample SAFE archive"
        )
        return stored

    def _build(self, target: Path) -> None:
        self._write(target)
        LOG.info("Built the sample SAFE archive %s (%d bytes)", target, target.stat().st_size)
        # The rendered members (about 20 MB) are not needed once the archive is on disk.
        for name in ("_rendered_cache", "tci_60m"):
            self.__dict__.pop(name, None)


def default_cache_dir() -> Path:
    """Where the archive is cached (`settings.cache_dir`): beside the chunk cache."""
    return cache_dir("safe")
