"""An on-disk cache of encoded Zarr chunks that never serves a damaged entry.

Why this module exists: generating and compressing a 1830 x 1830 chunk costs a
few tenths of a second, and the book reads whole bands several times (and is
executed twice in CI). Keeping the encoded bytes on disk makes every read after
the first one as cheap as reading a file. A cache that can be interrupted
(CI timeouts, Ctrl-C, two service processes sharing a directory) must never
hand out a half-written or bit-rotten file, so every entry carries its own
length and SHA-256 digest, and entries are published with an atomic rename.

Entry layout (one file per key, named by the SHA-256 of the key so any key is
a safe file name)::

    MAGIC (8 bytes) | sha256(payload) (32) | len(payload) (8, little-endian)
    | len(key) (4, little-endian) | key (utf-8) | payload
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from .settings import CACHE_VAR, cache_dir

logger = logging.getLogger("helpers.sample_service")

CACHE_ENV = CACHE_VAR
_MAGIC = b"EOPFCC1\n"
_HEADER = struct.Struct("<32sQI")  # digest, payload length, key length


def default_cache_root() -> Path:
    """Where the sample service keeps its chunk cache (`settings.cache_dir`)."""
    return cache_dir("chunks")


def content_digest(files: Iterable[str], patterns: Iterable[str], *extra: str) -> str:
    """A short digest of this package's ``files`` and files matching ``patterns``, plus ``extra``.

    Part of every cache key (chunks) or entry (archive): a change to the code or data that
    makes the bytes simply stops old entries from being asked for (``make clean`` removes them).
    """
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in [here / name for name in files] + [
        path for pattern in patterns for path in sorted(here.glob(pattern))
    ]:
        digest.update(path.read_bytes())
    for text in extra:
        digest.update(text.encode())
    return digest.hexdigest()[:16]


class ChunkCache:
    """Encoded chunks on disk, keyed by any string, verified on every read."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / digest[2:]

    def _key_lock(self, key: str) -> threading.Lock:
        # One lock per key: two threads asking for the same missing chunk
        # generate it once instead of twice.
        with self._locks_guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def get_or_create(self, key: str, make: Callable[[], bytes]) -> bytes:
        """The cached bytes of ``key``; ``make()`` fills (or repairs) the entry."""
        with self._key_lock(key):
            cached = self._read(key)
            if cached is not None:
                return cached
            payload = make()
            self._write(key, payload)
            return payload

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("chunk cache: cannot read %s (%s); regenerating", path, exc)
            return None
        problem = self._check(blob, key)
        if problem is None:
            start = len(_MAGIC) + _HEADER.size + len(key.encode("utf-8"))
            return blob[start:]
        logger.warning("chunk cache: %s entry %s (%s); regenerating", problem, path, key)
        return None

    @staticmethod
    def _check(blob: bytes, key: str) -> str | None:
        """None when ``blob`` is a complete, intact entry for ``key``; else why not."""
        key_bytes = key.encode("utf-8")
        head_end = len(_MAGIC) + _HEADER.size
        if len(blob) < head_end or not blob.startswith(_MAGIC):
            return "truncated"
        digest, length, key_length = _HEADER.unpack_from(blob, len(_MAGIC))
        if key_length != len(key_bytes) or blob[head_end : head_end + key_length] != key_bytes:
            return "foreign"
        payload = memoryview(blob)[head_end + key_length :]
        if len(payload) != length:
            return "truncated"
        if hashlib.sha256(payload).digest() != digest:
            return "corrupt"
        return None

    def _write(self, key: str, payload: bytes) -> None:
        path = self._path(key)
        key_bytes = key.encode("utf-8")
        header = _MAGIC + _HEADER.pack(
            hashlib.sha256(payload).digest(), len(payload), len(key_bytes)
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target, then rename: readers see the old entry
            # or the complete new one, never a partial file.
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as tmp:
                    tmp.write(header)
                    tmp.write(key_bytes)
                    tmp.write(payload)
                os.replace(tmp_name, path)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a full or read-only disk costs speed, not correctness
            logger.warning("chunk cache: cannot write %s (%s)", path, exc)
