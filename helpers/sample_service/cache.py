"""The service's on-disk cache: one integrity-checked format for chunks and archives.

Why this module exists: generating and compressing a 1830 x 1830 chunk costs a few tenths of a
second, and building the SAFE archive several seconds; the book reads whole bands several times
and downloads the archive in every build. Keeping the bytes on disk makes every later read as
cheap as reading a file. A cache that can be interrupted (CI timeouts, Ctrl-C, two service
processes sharing a directory) must never hand out a half-written or bit-rotten file, so every
entry carries its key, its length and its SHA-256 digest, and entries are published with an
atomic rename.

Entry layout, the same for a chunk of a few kB and an archive of 170 MB::

    MAGIC (8 bytes) | sha256(payload) (32) | len(payload) (8, little-endian)
    | len(key) (4, little-endian) | key (utf-8) | payload

Small entries (chunks, land-mask crops) are named by the SHA-256 of their key and read whole,
checked on every read (`VerifiedCache.get_or_create`). Large entries (the archive) live in a
named slot, are checked once per change of the file and served from the payload's offset
(`VerifiedCache.get_or_create_file`); an entry written for another key (another version of
the generator) is rebuilt in place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class StoredFile:
    """A verified large entry: its file, and where its payload starts and how long it is."""

    path: Path
    offset: int
    size: int

    def read(self) -> bytes:
        """The whole payload (for small files and tests; large ones are streamed)."""
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            return handle.read(self.size)


class VerifiedCache:
    """Entries on disk, keyed by any string, verified before they are served."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._verified: dict[Path, tuple[int, int]] = {}  # slot -> (size, mtime_ns) checked

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
        try:
            _publish(path, key, hashlib.sha256(payload).digest(), len(payload), [payload])
        except OSError as exc:  # a full or read-only disk costs speed, not correctness
            logger.warning("chunk cache: cannot write %s (%s)", path, exc)

    # --- large entries in named slots ------------------------------------------------------------

    def get_or_create_file(
        self, slot: str, key: str, build: Callable[[Path], None], what: str
    ) -> StoredFile:
        """The verified entry in file ``slot`` for ``key``; ``build(path)`` writes its payload.

        ``what`` names the entry in the log: building a missing entry is logged as
        information, rebuilding one written for another key too, a damaged one as a warning.
        """
        path = self.root / slot
        with self._key_lock(slot):
            problem = self._file_problem(path, key)
            if problem is None:
                return _stored(path, key)
            if problem == "missing":
                logger.info("Building the %s (once; cached in %s)", what, self.root)
            elif problem == "written for another key":
                logger.info("Rebuilding the %s %s: built by another version", what, path)
            else:
                logger.warning("Corrupt %s %s (%s); rebuilding it", what, path, problem)
            self._verified.pop(path, None)
            path.unlink(missing_ok=True)
            self._build_file(path, key, build)
            stat = path.stat()
            self._verified[path] = (stat.st_size, stat.st_mtime_ns)
            return _stored(path, key)

    def find_file(self, slot: str, key: str) -> StoredFile | None:
        """The verified entry in file ``slot`` for ``key``, or None (nothing is built)."""
        path = self.root / slot
        with self._key_lock(slot):
            if self._file_problem(path, key) is None:
                return _stored(path, key)
        return None

    def _file_problem(self, path: Path, key: str) -> str | None:
        """None when ``path`` is an intact entry for ``key``; else why not (streamed check)."""
        try:
            stat = path.stat()
            with path.open("rb") as handle:
                head = handle.read(len(_MAGIC) + _HEADER.size)
                if len(head) < len(_MAGIC) + _HEADER.size or not head.startswith(_MAGIC):
                    return "truncated"
                digest, length, key_length = _HEADER.unpack_from(head, len(_MAGIC))
                if handle.read(key_length) != key.encode("utf-8"):
                    return "written for another key"
                if stat.st_size != len(head) + key_length + length:
                    return "truncated"
                if self._verified.get(path) == (stat.st_size, stat.st_mtime_ns):
                    return None
                hasher = hashlib.sha256()
                while block := handle.read(4 << 20):
                    hasher.update(block)
        except FileNotFoundError:
            return "missing"
        if hasher.digest() != digest:
            return "corrupt"
        self._verified[path] = (stat.st_size, stat.st_mtime_ns)
        return None

    def _build_file(self, path: Path, key: str, build: Callable[[Path], None]) -> None:
        """Build the payload into a private file, then publish it as the entry at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, payload_name = tempfile.mkstemp(dir=path.parent, prefix=".building-")
        os.close(fd)
        payload = Path(payload_name)
        try:
            build(payload)
            hasher, size = hashlib.sha256(), 0
            with payload.open("rb") as handle:
                while block := handle.read(4 << 20):
                    hasher.update(block)
                    size += len(block)
            with payload.open("rb") as handle:
                blocks = iter(lambda: handle.read(4 << 20), b"")
                _publish(path, key, hasher.digest(), size, blocks)
        finally:
            payload.unlink(missing_ok=True)


def _stored(path: Path, key: str) -> StoredFile:
    offset = len(_MAGIC) + _HEADER.size + len(key.encode("utf-8"))
    return StoredFile(path, offset, path.stat().st_size - offset)


def _publish(path: Path, key: str, digest: bytes, size: int, blocks: Iterable[bytes]) -> None:
    """Write an entry beside ``path``, then rename it there: readers see the old entry or the
    complete new one, never a partial file."""
    key_bytes = key.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(_MAGIC + _HEADER.pack(digest, size, len(key_bytes)) + key_bytes)
            for block in blocks:
                tmp.write(block)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; the cache holds public samples
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
