"""The service's on-disk cache: one integrity-checked format for chunks, shards and archives.

Making a chunk costs tenths of a second, a band's shards or the SAFE archive seconds, and the
book reads them again and again. An interrupted cache (CI timeouts, Ctrl-C, two processes on
one directory) must never hand out a half-written or bit-rotten file, so every entry carries its
key, length and SHA-256 and is published by an atomic rename::

    MAGIC (8 bytes) | sha256(payload) (32) | len(payload) (8, little-endian)
    | len(key) (4, little-endian) | key (utf-8) | payload

Small entries (chunks) are named by their key's digest and checked on every read; large ones
(shards, the archive) live in a named slot, are checked once per change of the file and read by
ranges (`StoredFile`); one written for another key (another generator version) is rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from .settings import cache_dir

logger = logging.getLogger("helpers.sample_service")

_MAGIC = b"EOPFCC1\n"
_HEADER = struct.Struct("<32sQI")  # digest, payload length, key length
T = TypeVar("T")


def default_cache_root() -> Path:
    """Where the sample service keeps its chunk cache (`settings.cache_dir`)."""
    return cache_dir("chunks")


def content_digest(files: Iterable[str], patterns: Iterable[str], *extra: str) -> str:
    """A short digest of this package's ``files`` and files matching ``patterns``, plus ``extra``.

    Part of every cache key: a change to the code or data that makes the bytes simply stops
    old entries from being asked for (``make clean`` removes them).
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


def one_per_key(make: Callable[[str], T]) -> Callable[[str], T]:
    """``make`` memoised: one result per key, made once even when threads ask at the same time."""
    lock = threading.Lock()
    memoised = functools.cache(make)

    @functools.wraps(make)
    def get(key: str) -> T:
        with lock:
            return memoised(key)

    return get


@dataclass(frozen=True)
class StoredFile:
    """A verified large entry: its file, and where its payload starts and how long it is."""

    path: Path
    offset: int
    size: int

    def read_range(self, start: int, stop: int) -> bytes:
        """Bytes ``start`` to ``stop - 1`` of the payload; only these are read from disk."""
        with self.path.open("rb") as handle:
            handle.seek(self.offset + start)
            return handle.read(stop - start)

    def read(self) -> bytes:
        """The whole payload (for small files and tests; large ones are read by ranges)."""
        return self.read_range(0, self.size)


class VerifiedCache:
    """Entries on disk, keyed by any string, verified before they are served."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = one_per_key(lambda key: threading.Lock())  # one maker per entry
        self._verified: dict[Path, tuple[int, int]] = {}  # slot -> (size, mtime_ns) checked

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / digest[2:]

    def get_or_create(self, key: str, make: Callable[[], bytes]) -> bytes:
        """The cached bytes of ``key``; ``make()`` fills (or repairs) the entry."""
        path = self._path(key)
        with self._lock(key):
            try:
                entry = path.read_bytes()
                problem = _problem(io.BytesIO(entry), len(entry), key)
            except FileNotFoundError:
                entry, problem = b"", "missing"
            except OSError as exc:
                entry, problem = b"", f"unreadable ({exc})"
            if problem is None:
                return entry[_offset(key) :]
            if problem != "missing":
                logger.warning("chunk cache: %s entry %s (%s); regenerating", problem, path, key)
            payload = make()
            try:
                _publish(path, key, io.BytesIO(payload))
            except OSError as exc:  # a full or read-only disk costs speed, not correctness
                logger.warning("chunk cache: cannot write %s (%s)", path, exc)
            return payload

    def get_or_create_file(
        self, slot: str, key: str, build: Callable[[Path], None], what: str
    ) -> StoredFile:
        """The verified entry in file ``slot`` for ``key``; ``build(path)`` writes its payload.

        ``what`` names the entry in the log: building a missing entry is logged as
        information, rebuilding one written for another key too, a damaged one as a warning.
        """
        path = self.root / slot
        with self._lock(slot):
            problem = self._file_problem(path, key)
            if problem is None:
                return _stored(path, key)
            if problem == "missing":
                logger.info("Building the %s (once; cached in %s)", what, self.root)
            elif problem == "foreign":
                logger.info("Rebuilding the %s %s: built by another version", what, path)
            else:
                logger.warning("Corrupt %s %s (%s); rebuilding it", what, path, problem)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, built = tempfile.mkstemp(dir=path.parent, prefix=".building-")
            os.close(fd)
            try:
                build(Path(built))
                with open(built, "rb") as payload:
                    _publish(path, key, payload)
            finally:
                Path(built).unlink(missing_ok=True)
            stat = path.stat()
            self._verified[path] = (stat.st_size, stat.st_mtime_ns)
            return _stored(path, key)

    def find_file(self, slot: str, key: str) -> StoredFile | None:
        """The verified entry in file ``slot`` for ``key``, or None (nothing is built)."""
        path = self.root / slot
        with self._lock(slot):
            return _stored(path, key) if self._file_problem(path, key) is None else None

    def _file_problem(self, path: Path, key: str) -> str | None:
        """None when ``path`` is an intact entry for ``key``; else why not (streamed check)."""
        try:
            stat = path.stat()
            with path.open("rb") as handle:
                checked = self._verified.get(path) == (stat.st_size, stat.st_mtime_ns)
                problem = _problem(handle, stat.st_size, key, hash_payload=not checked)
        except FileNotFoundError:
            return "missing"
        if problem is None:
            self._verified[path] = (stat.st_size, stat.st_mtime_ns)
        return problem


def _offset(key: str) -> int:
    return len(_MAGIC) + _HEADER.size + len(key.encode("utf-8"))


def _problem(entry: BinaryIO, size: int, key: str, hash_payload: bool = True) -> str | None:
    """None when ``entry`` (``size`` bytes) is a whole, intact entry for ``key``; else why not."""
    head = entry.read(len(_MAGIC) + _HEADER.size)
    if len(head) < len(_MAGIC) + _HEADER.size or not head.startswith(_MAGIC):
        return "truncated"
    digest, length, key_length = _HEADER.unpack_from(head, len(_MAGIC))
    if entry.read(key_length) != key.encode("utf-8"):
        return "foreign"
    if size != _offset(key) + length:
        return "truncated"
    if not hash_payload:
        return None
    hasher = hashlib.sha256()  # not file_digest: it hashes a BytesIO whole, header and all
    while block := entry.read(4 << 20):
        hasher.update(block)
    return None if hasher.digest() == digest else "corrupt"


def _stored(path: Path, key: str) -> StoredFile:
    return StoredFile(path, _offset(key), path.stat().st_size - _offset(key))


def _publish(path: Path, key: str, payload: BinaryIO) -> None:
    """Write an entry beside ``path``, then rename it there: readers see the old entry or the
    complete new one, never a partial file."""
    key_bytes = key.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.seek(_offset(key))  # the header follows once the payload's digest is known
            hasher = hashlib.sha256()
            while block := payload.read(4 << 20):
                hasher.update(block)
                tmp.write(block)
            length = tmp.tell() - _offset(key)
            tmp.seek(0)
            tmp.write(_MAGIC + _HEADER.pack(hasher.digest(), length, len(key_bytes)) + key_bytes)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; the cache holds public samples
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
