"""The SAFE zip archive of the sample service: built once, cached on disk with a digest, verified.

The book's comparison of SAFE with EOPF Zarr is only honest if the SAFE side downloads what a
reader of the real service downloads: a zip of about 170 MB laid out as a real Sentinel-2 L2A
SAFE, of which the reader uses one small JPEG 2000 file. Its members are the data objects of a
real L2A manifest (``templates/safe/l2a_data_objects.json``, source named there), in its order:
- the XML documents, templates filled for this product (`safe_metadata`);
- the TCI 60 m, a lossless JPEG 2000 of the synthetic scene the Zarr quicklook serves
  (``scenes.quicklook_tci``), so both paths show the same picture; the preview (``PVI``) and the
  distribution quicklook (``-ql.jpg``) are images of it too;
- every other member, incompressible filler of its size: nobody reads them, but they cost their
  real bytes on the wire. The real product covers its whole tile, the seed's part of its tile,
  so the image members are scaled by one fraction, solved for the archive to come to 170 MB.
Images are stored (they are compressed already), text deflated; the manifest lists every data
object with its size and SHA3-256 checksum, as real ones do.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image

from . import safe_metadata as meta
from .cache import StoredFile, VerifiedCache, content_digest
from .catalog import ProductRecord
from .scenes import quicklook_tci

LOG = logging.getLogger("helpers.sample_service")

TARGET_BYTES = 170_000_000
"""The archive size the seed published for this product: 170 MB (its progress bar printed 170
dots of 1 MB chunks)."""
TCI_60M = "IMG_DATA_Band_TCI_60m_Tile1_Data"
"""The manifest ID of the member the seed reads: the 60 m true-colour image."""

_PREVIEW_SIZE = 343  # pixels: the PVI of a real L2A tile is 343 x 343
_SCALED = ("image", "mask_coverage")  # the kinds of member whose size follows the coverage
_JP2 = {"format": "JPEG2000", "no_jp2": False, "irreversible": False}  # lossless, as S2 TCIs
_JPEG = {"format": "JPEG", "quality": 85}


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


def _filler(path: str, size: int) -> bytes:
    """Incompressible bytes of ``size``, the same on every build (seeded by the member's path)."""
    seed = int.from_bytes(hashlib.sha256(path.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).bytes(size)


def _encoded(pixels: np.ndarray, options: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, **options)
    return buffer.getvalue()


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
    return _encoded(_tci_60m_and_preview(record)[1], _JPEG)


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
        self.cache_dir = Path(cache_dir)
        self.target_bytes = target_bytes
        self.filename = f"{record.id}.SAFE.zip"  # the name a download gets
        self.slot = f"{self.filename}.cached"  # the cache file: entry header, then the zip
        self.path = self.cache_dir / self.slot
        # The cache key: what the archive is, and which generator and size made it.
        self.key = f"safe-archive/{content_version()}/{target_bytes}/{self.filename}"
        self._cache = VerifiedCache(self.cache_dir)

    def ensure(self) -> StoredFile:
        """The verified cached archive, built first when missing, damaged or out of date."""
        return self._cache.get_or_create_file(
            self.slot, self.key, self._build, "sample SAFE archive"
        )

    def _rendered(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        """The product's values, and every member whose bytes are generated (not filler),
        except the manifest: the documents and the images of the scene."""
        tci, preview = _tci_60m_and_preview(self.record)
        nodata = 100.0 * float(np.mean(np.all(tci == 0, axis=-1)))
        values = meta.product_values(self.record, nodata)
        images = {"tci60": _encoded(tci, _JP2), "preview": _encoded(preview, _JP2)}
        rendered = {
            path: images[obj["kind"]] if obj["kind"] in images else meta.document(path, obj, values)
            for path, obj in meta.members(values)
            if "template" in obj or obj["kind"] in images
        }
        rendered[f"{self.record.id}-ql.jpg"] = _encoded(preview, _JPEG)
        return values, rendered

    def _build(self, target: Path) -> None:
        """Write the archive to ``target``. The coverage-dependent members get one fraction of
        their template size, solved for the zip to come to ``target_bytes`` (at least a
        thousandth, for tiny test archives): a first build, with a byte for each of them,
        measures what everything else takes."""
        values, rendered = self._rendered()
        scalable = sum(o["template_size"] for _, o in meta.members(values) if o["kind"] in _SCALED)
        fixed = self._write(target, values, rendered, 0.0)
        self._write(target, values, rendered, max((self.target_bytes - fixed) / scalable, 0.001))
        LOG.info("Built the sample SAFE archive %s (%d bytes)", target, target.stat().st_size)

    def _write(
        self, target: Path, values: dict[str, Any], rendered: dict[str, bytes], fraction: float
    ) -> int:
        """Write the data objects, then the distribution quicklook, which the manifest does not
        list (as in archives of CDSE), then the manifest, once every checksum is known. Returns
        the zip's size less the bytes of the scaled members."""
        entries: list[dict[str, Any]] = []
        scaled = 0
        members = [
            *meta.members(values),
            (f"{self.record.id}-ql.jpg", None),
            ("manifest.safe", None),
        ]
        with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
            for path, obj in members:
                if path in rendered:
                    data = rendered[path]
                elif obj is None:
                    data = meta.manifest(values, entries)
                elif obj["kind"] in _SCALED:
                    data = _filler(path, max(1, round(obj["template_size"] * fraction)))
                    scaled += len(data)
                else:
                    data = _filler(path, obj["template_size"])
                if obj is not None:
                    checksum = hashlib.sha3_256(data).hexdigest()
                    entries.append(
                        {**obj, "href": f"./{path}", "size": len(data), "sha3_256": checksum}
                    )
                info = zipfile.ZipInfo(
                    f"{values['safe']}/{path}", values["generated_time"].timetuple()[:6]
                )
                stored = path.endswith((".jp2", ".jpg")) or "/AUX_DATA/" in path
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        return target.stat().st_size - scaled
