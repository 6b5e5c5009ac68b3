"""The SAFE zip archive of the sample service: built once, cached on disk with a digest, verified.

The book's comparison of SAFE with EOPF Zarr is only honest if the SAFE side downloads what a
reader of the real service downloads: a zip of about 170 MB laid out as a real Sentinel-2 L2A
SAFE, of which the reader uses one small JPEG 2000 file. It is built once (seconds) into the
service's integrity-checked cache (`cache.VerifiedCache`); a damaged entry is logged and rebuilt.

- Member list, locations, MIME types and sizes: the manifest of a real L2A product
  (``templates/safe/l2a_data_objects.json``, source named there). It covers its whole tile; the
  seed's product covers part of its tile, so the image members are scaled by one coverage
  fraction, solved so that the archive comes to ``target_bytes``.
- The TCI 60 m member is a lossless JPEG 2000 of the synthetic scene the Zarr quicklook serves
  (``scenes.quicklook_tci``), so both paths show the same picture; the preview (``PVI``) and the
  distribution quicklook (``-ql.jpg``) are images of it too. The XML documents are templates
  filled for this product (`safe_metadata`).
- Every other member (other bands, masks, auxiliary GRIB files) is incompressible filler of its
  size: nobody reads them, but they cost their real bytes on the wire.

JPEG 2000 and JPEG members are stored (they are compressed already), text members deflated; the
manifest lists every data object with its size and SHA3-256 checksum, as real ones do.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import zipfile
import zlib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image

from . import safe_metadata as meta
from .cache import StoredFile, VerifiedCache, content_digest
from .catalog import ProductRecord
from .scenes import quicklook_tci
from .settings import cache_dir

LOG = logging.getLogger("helpers.sample_service")

TARGET_BYTES = 170_000_000
"""The archive size the seed published for this product: 170 MB (its progress bar printed 170
dots of 1 MB chunks)."""
TCI_60M = "IMG_DATA_Band_TCI_60m_Tile1_Data"
"""The manifest ID of the member the seed reads: the 60 m true-colour image."""

_ZIP_TIME = (2025, 6, 5, 12, 54, 16)  # the product's generation time
_PREVIEW_SIZE = 343  # pixels: the PVI of a real L2A tile is 343 x 343
_SCALED = ("image", "mask_coverage")  # the kinds of member whose size follows the coverage


@functools.cache
def content_version() -> str:
    """A digest of everything that decides the archive's bytes: the code and data it is made
    from (the TCI member must stay identical to the Zarr quicklook, so the scenes too) and the
    versions of numpy (filler) and Pillow (JPEG 2000 encoder). Computed once per process."""
    return content_digest(
        ("safe_archive.py", "safe_metadata.py", "catalog.py", "solar.py", "timefmt.py"),
        ("scenes/*.py", "templates/safe/*", "templates/catalogue/*.json"),
        f"numpy {np.__version__} pillow {PIL.__version__}",
    )


def _data_objects() -> list[dict[str, Any]]:
    text = (meta.TEMPLATES / "l2a_data_objects.json").read_text(encoding="utf-8")
    return json.loads(text)["data_objects"]


def _filler(path: str, size: int) -> bytes:
    """Incompressible bytes of ``size``, the same on every build (seeded by the member's path)."""
    seed = int.from_bytes(hashlib.sha256(path.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).bytes(size)


def _deflated_size(data: bytes) -> int:
    """The size zipfile's default deflate gives ``data`` (same level and window as zipfile)."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return len(compressor.compress(data) + compressor.flush())


def _image(pixels: np.ndarray, **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, **options)
    return buffer.getvalue()


def _jp2(pixels: np.ndarray) -> bytes:
    """A lossless JPEG 2000 (JP2 container) of an (rows, cols, 3) uint8 image, as S2 TCIs are."""
    return _image(pixels, format="JPEG2000", no_jp2=False, irreversible=False)


def _jpeg(pixels: np.ndarray) -> bytes:
    return _image(pixels, format="JPEG", quality=85)


def _tci_60m_and_preview(record: ProductRecord) -> tuple[np.ndarray, np.ndarray]:
    """The 60 m true-colour image, (1830, 1830, 3) uint8 (the Zarr quicklook's pixels), and
    its preview."""
    tci = np.ascontiguousarray(np.moveaxis(quicklook_tci(record, 60), 0, -1))
    preview = Image.fromarray(tci).resize((_PREVIEW_SIZE, _PREVIEW_SIZE), Image.Resampling.BOX)
    return tci, np.asarray(preview)


@functools.cache
def quicklook_jpeg(record: ProductRecord) -> bytes:
    """The distribution quicklook (``<product>-ql.jpg``, also the catalogue's QUICKLOOK asset),
    kept once made: the catalogue serves it on every request for the asset."""
    return _jpeg(_tci_60m_and_preview(record)[1])


class SafeArchive:
    """The sample SAFE archive of one Sentinel-2 L2A product, cached under ``cache_dir``.

    ``ensure()`` returns the verified archive (a `cache.StoredFile`), building it first when
    needed, as an entry of the service's one cache format (`cache.VerifiedCache`); builds are
    deterministic, so a concurrent rebuild in another process yields the same bytes.
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

    def _objects(self) -> list[tuple[str, dict[str, Any]]]:
        """Every data object of the manifest, with its path for this product."""
        return [(self.names.expand(o["href"])[2:], o) for o in _data_objects()]

    def _rendered(self) -> dict[str, bytes]:
        """Every member whose bytes are generated (not filler), except the manifest."""
        record, names, objects = self.record, self.names, self._objects()
        tci, preview = _tci_60m_and_preview(record)
        image_files = [path for path, o in objects if o["container"] == "img"]
        mask_files = [
            path
            for path, o in objects
            if o["container"] == "tile_qi" and o["href"].endswith(".jp2") and "PVI" not in o["href"]
        ]
        nodata = 100.0 * float(np.mean(np.all(tci == 0, axis=-1)))
        makers: dict[str, Callable[[str, dict[str, Any]], bytes]] = {
            "product_metadata": lambda *_: meta.product_metadata(
                record, names, image_files, nodata
            ),
            "inspire": lambda *_: meta.inspire(record, names),
            "html": lambda *_: meta.html_index(names),
            "html_xsl": lambda *_: meta.render("UserProduct_index.xsl", {}),
            "datastrip_metadata": lambda _, o: meta.datastrip_metadata(names, o["template_size"]),
            "tile_metadata": lambda *_: meta.tile_metadata(record, names, mask_files, nodata),
            "qi_report": lambda path, o: meta.qi_report(
                names,
                path.rsplit("/", 1)[-1].removesuffix(".xml"),
                names.datastrip if o["container"] == "datastrip_qi" else names.granule,
            ),
            "tci60": lambda *_: _jp2(tci),
            "preview": lambda *_: _jp2(preview),
        }
        rendered = {path: makers[o["kind"]](path, o) for path, o in objects if o["kind"] in makers}
        rendered[f"{names.product}-ql.jpg"] = _jpeg(preview)
        return rendered

    @cached_property
    def _rendered_cache(self) -> dict[str, bytes]:
        return self._rendered()

    @staticmethod
    def _compressed(path: str) -> bool:
        return not path.endswith((".jp2", ".jpg")) and "AUX_DATA" not in path

    def _entry_overhead(self, path: str) -> int:
        """Zip bytes around one member: its local header and its central directory record."""
        name = len(f"{self.names.safe}/{path}".encode())
        return 30 + name + 46 + name

    def _coverage_fraction(self, rendered: dict[str, bytes]) -> float:
        """The fraction of their template size the coverage-dependent members get, solved so
        that the zip comes to ``target_bytes`` (at least a thousandth, for tiny test archives)."""
        # The fixed bytes: the end-of-central-directory record and the manifest (written last,
        # once the checksums are known: about 70 kB of XML for 86 data objects, deflated to
        # about 10 kB), then every member that is not scaled.
        fixed, scalable = 22 + self._entry_overhead("manifest.safe") + 10_000, 0
        for path, obj in self._members():
            fixed += self._entry_overhead(path)
            if path in rendered:
                data = rendered[path]
                fixed += _deflated_size(data) if self._compressed(path) else len(data)
            elif obj["kind"] in _SCALED:
                scalable += obj["template_size"]
            else:
                fixed += obj["template_size"]
        return max((self.target_bytes - fixed) / scalable, 0.001)

    def _members(self) -> list[tuple[str, dict[str, Any] | None]]:
        """Every member but the manifest: the data objects in manifest order, then the
        distribution quicklook, which the manifest does not list (as in archives of CDSE)."""
        return [*self._objects(), (f"{self.names.product}-ql.jpg", None)]

    def _write(self, target: Path) -> None:
        """Write the archive to ``target``: members in manifest order, the manifest last."""
        rendered = self._rendered_cache
        fraction = self._coverage_fraction(rendered)
        entries: list[dict[str, Any]] = []
        with zipfile.ZipFile(target, "w", allowZip64=True) as archive:

            def add(path: str, data: bytes) -> None:
                info = zipfile.ZipInfo(f"{self.names.safe}/{path}", date_time=_ZIP_TIME)
                info.compress_type = (
                    zipfile.ZIP_DEFLATED if self._compressed(path) else zipfile.ZIP_STORED
                )
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)

            for path, obj in self._members():
                if path in rendered:
                    data = rendered[path]
                elif obj["kind"] in _SCALED:
                    data = _filler(path, max(1, round(obj["template_size"] * fraction)))
                else:
                    data = _filler(path, obj["template_size"])
                add(path, data)
                if obj is not None:
                    checksum = hashlib.sha3_256(data).hexdigest()
                    entries.append(
                        {**obj, "href": f"./{path}", "size": len(data), "sha3_256": checksum}
                    )
            add("manifest.safe", meta.manifest(self.record, self.names, entries))

    def ensure(self) -> StoredFile:
        """The verified cached archive, built first when missing, damaged or out of date."""
        return self._cache.get_or_create_file(
            self.slot, self.key, self._build, "sample SAFE archive"
        )

    def _build(self, target: Path) -> None:
        self._write(target)
        LOG.info("Built the sample SAFE archive %s (%d bytes)", target, target.stat().st_size)
        # The rendered members (about 20 MB) are not needed once the archive is on disk.
        self.__dict__.pop("_rendered_cache", None)


def default_cache_dir() -> Path:
    """Where the archive is cached (`settings.cache_dir`): beside the chunk cache."""
    return cache_dir("safe")
