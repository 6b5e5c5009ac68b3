"""What did that read cost? Count HTTP requests, bytes and Zarr keys, client side.

Why this module exists: the book's argument for Zarr over SAFE is quantitative (a few requests and a
fraction of a megabyte instead of a whole archive), so every chapter needs the same honest meter.
Measuring on the client, not in the sample service, means the numbers are the same kind of numbers
against the live EOPF service.

How it sees the requests: xarray, zarr and the ``eopf-zarr`` engine all fetch over HTTP through
fsspec's ``HTTPFileSystem``, which builds one ``aiohttp.ClientSession`` per filesystem instance from
``fsspec.config.conf["http"]["client_kwargs"]``. The ``eopf-zarr`` engine of xarray-eopf 0.3.1
ignores ``storage_options`` for http URLs, so passing a tracer per call would miss its requests.
Instead, :func:`install` adds one permanent ``aiohttp.TraceConfig`` to that configuration (merged
into whatever else is there, e.g. retry settings) and to filesystem instances cached earlier. The
tracer does nothing while no meter is open; each open :class:`TrafficMeter` subscribes to it.

Bytes are the response *body* bytes as they came off the wire (before any HTTP content decoding):
for Zarr chunks that is the compressed chunk, the cost that matters. Requests made outside fsspec
(``requests``, used by pystac-client) are not counted.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import fsspec.config

METADATA_NAMES = frozenset({".zmetadata", ".zarray", ".zattrs", ".zgroup", "zarr.json"})
"""Zarr metadata documents (v2, and the v3 ``zarr.json``): everything else in a store is data."""

# A Zarr v2 chunk key ends in its grid index: "0.1.2" (separator ".") or ".../0/1/2" (separator
# "/"), so the last path segment is digits, optionally joined by dots.
_CHUNK_NAME = re.compile(r"^\d+(\.\d+)*$")

KINDS = ("metadata", "chunk", "other")


def key_kind(url_or_key: str) -> str:
    """Classify a URL or store key as ``"metadata"``, ``"chunk"`` or ``"other"`` by its name."""
    name = urlsplit(url_or_key).path.rstrip("/").rsplit("/", 1)[-1]
    if name in METADATA_NAMES:
        return "metadata"
    if _CHUNK_NAME.match(name):
        return "chunk"
    return "other"


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request as a meter saw it."""

    method: str
    url: str
    status: int | None
    """HTTP status, or None when the request failed before any response arrived."""
    bytes: int
    """Response body bytes received (as sent by the server, i.e. before content decoding)."""

    @property
    def path(self) -> str:
        """The URL path: for a Zarr store, the store URL path followed by the key."""
        return urlsplit(self.url).path

    @property
    def kind(self) -> str:
        """``"metadata"``, ``"chunk"`` or ``"other"`` (see :func:`key_kind`)."""
        return key_kind(self.url)


class _LiveRequest:
    """A request in flight, shared by every meter that was open when it started.

    Written only on fsspec's event-loop thread; meters read it when they are asked for numbers
    or when they close, so plain attribute reads and writes are enough.
    """

    __slots__ = ("method", "reader", "status", "url")

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        self.url = url
        self.status: int | None = None
        self.reader: Any = None

    def body_bytes(self) -> int:
        """Body bytes received so far.

        The documented trace event for body data (``on_response_chunk_received``) only fires
        when the whole body is read with ``response.read()`` and then reports the *decoded*
        body; fsspec also streams (``response.content.read(n)``). The response stream's own
        counter sees both, and counts wire bytes, so it is read here instead.
        """
        reader = self.reader
        if reader is None:
            return 0
        try:
            return int(reader.total_raw_bytes)
        except AttributeError:  # aiohttp's empty stream (HEAD, 204) lacks the compressed counter
            return int(getattr(reader, "total_bytes", 0))

    def record(self) -> RequestRecord:
        return RequestRecord(self.method, self.url, self.status, self.body_bytes())


class _SharedTraceConfig(aiohttp.TraceConfig):
    """The tracer's trace config, pickled as a reference to the receiving process's own one.

    Why: filesystems carry their ``client_kwargs`` when dask.distributed ships tasks to workers,
    and a plain ``TraceConfig`` (frozen signal lists) cannot be pickled, which made cluster
    computations hang instead of running. A worker gets its own process-wide tracer instead.
    """

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_shared_trace_config, ())


def _shared_trace_config() -> aiohttp.TraceConfig:
    """This process's tracer (the target of :meth:`_SharedTraceConfig.__reduce__`)."""
    return _TRACER.trace_config


class _Tracer:
    """The single ``aiohttp.TraceConfig`` the book installs, and the meters listening to it."""

    def __init__(self) -> None:
        self.trace_config = _SharedTraceConfig()
        self.trace_config.on_request_start.append(self._on_request_start)
        self.trace_config.on_request_end.append(self._on_request_end)
        # Frozen now, so it can also be appended to sessions that already exist.
        self.trace_config.freeze()
        self._lock = threading.Lock()
        self._meters: list[TrafficMeter] = []

    def subscribe(self, meter: TrafficMeter) -> None:
        with self._lock:
            self._meters.append(meter)

    def unsubscribe(self, meter: TrafficMeter) -> None:
        with self._lock:
            self._meters = [m for m in self._meters if m is not meter]

    async def _on_request_start(
        self, session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
    ) -> None:
        with self._lock:
            meters = tuple(self._meters)
        ctx.live = None
        if not meters:
            return
        live = _LiveRequest(params.method, str(params.url))
        ctx.live = live
        for meter in meters:
            meter._add(live)

    async def _on_request_end(
        self, session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
    ) -> None:
        live: _LiveRequest | None = getattr(ctx, "live", None)
        if live is not None:
            live.status = params.response.status
            live.reader = params.response.content


_INSTALL_LOCK = threading.Lock()
_TRACER = _Tracer()


def _add_to(section: dict[str, Any], trace_config: aiohttp.TraceConfig) -> None:
    """Merge the tracer into one fsspec config section, keeping every other client setting."""
    client_kwargs = section.setdefault("client_kwargs", {})
    traces = client_kwargs.get("trace_configs")
    if traces is None:
        client_kwargs["trace_configs"] = [trace_config]
    elif not any(t is trace_config for t in traces):
        client_kwargs["trace_configs"] = [*traces, trace_config]


def _attach_to_cached_filesystems(trace_config: aiohttp.TraceConfig) -> None:
    """Give filesystem instances created before :func:`install` the tracer too.

    fsspec caches ``HTTPFileSystem`` instances (``_cache``) and xarray/zarr reuse them, so one
    created before installation (or with explicit ``client_kwargs``) would stay invisible. Its
    ``client_kwargs`` feed a session that may not exist yet; an existing session keeps its list
    of trace configs, which aiohttp exposes as ``ClientSession.trace_configs`` and reads at
    every request. ``_cache`` and ``_session`` are fsspec internals: guarded, so a future fsspec
    without them only loses this catch-up, not the meter.
    """
    from fsspec.implementations.http import HTTPFileSystem

    for fs in list(getattr(HTTPFileSystem, "_cache", {}).values()):
        kwargs = getattr(fs, "client_kwargs", None)
        if isinstance(kwargs, dict):
            traces = kwargs.get("trace_configs") or []
            if not any(t is trace_config for t in traces):
                fs.client_kwargs = {**kwargs, "trace_configs": [*traces, trace_config]}
        session = getattr(fs, "_session", None)
        if session is not None and not session.closed:
            current = session.trace_configs
            if not any(t is trace_config for t in current):
                current.append(trace_config)


def install() -> None:
    """Make every fsspec HTTP session report to the traffic meters. Idempotent and thread-safe.

    Call it early (the data-source helper does); :class:`TrafficMeter` calls it on entry too.
    It merges into ``fsspec.config.conf["http"]["client_kwargs"]["trace_configs"]`` rather
    than replacing the section, so other client settings (e.g. retries) coexist. fsspec applies
    both its ``"http"`` and ``"https"`` sections to ``HTTPFileSystem``, the latter last, so an
    ``"https"`` section that sets ``client_kwargs`` gets the tracer as well.
    """
    trace_config = _TRACER.trace_config
    with _INSTALL_LOCK:
        conf = fsspec.config.conf
        _add_to(conf.setdefault("http", {}), trace_config)
        if "client_kwargs" in conf.get("https", {}):
            _add_to(conf["https"], trace_config)
        _attach_to_cached_filesystems(trace_config)


class TrafficMeter:
    """Count the HTTP requests, body bytes and Zarr keys fetched inside a ``with`` block.

    ``with TrafficMeter() as meter: ...`` then ``print(meter.summary())``. A request belongs to
    every meter that is open when it starts, so nested meters each see their own window, and
    meters open at the same time in different threads see each other's traffic (HTTP requests
    are made on fsspec's single event-loop thread, so they cannot be told apart by caller).
    When the block ends the figures are frozen: nothing later is counted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: list[_LiveRequest] = []
        self._records: tuple[RequestRecord, ...] | None = None
        self._open = False
        self._started: float | None = None
        self._stopped: float | None = None

    def __enter__(self) -> TrafficMeter:
        if self._started is not None:
            raise RuntimeError("A TrafficMeter measures one block; create a new one for another.")
        install()
        self._open = True
        self._started = time.perf_counter()
        _TRACER.subscribe(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _TRACER.unsubscribe(self)
        self._stopped = time.perf_counter()
        with self._lock:
            self._open = False
            # Bodies still streaming at this moment count for what had arrived.
            self._records = tuple(live.record() for live in self._live)
            self._live = []

    def _add(self, live: _LiveRequest) -> None:
        with self._lock:
            if self._open:
                self._live.append(live)

    # --- figures ------------------------------------------------------------------------------

    @property
    def records(self) -> tuple[RequestRecord, ...]:
        """Every request, in the order they started (live figures while the block runs)."""
        with self._lock:
            if self._records is not None:
                return self._records
            return tuple(live.record() for live in self._live)

    @property
    def requests(self) -> int:
        """Number of HTTP requests made (any method, any status)."""
        return len(self.records)

    @property
    def bytes_downloaded(self) -> int:
        """Response body bytes received (compressed chunk bytes for Zarr data)."""
        return sum(r.bytes for r in self.records)

    @property
    def seconds(self) -> float:
        """Wall-clock time of the block (so far, while it runs)."""
        if self._started is None:
            return 0.0
        end = self._stopped if self._stopped is not None else time.perf_counter()
        return end - self._started

    @property
    def keys(self) -> list[str]:
        """URL paths requested, in order (a store's URL path followed by the Zarr key)."""
        return [r.path for r in self.records]

    @property
    def chunks_read(self) -> int:
        """Requests for chunk keys (a chunk fetched twice counts twice)."""
        return sum(1 for r in self.records if r.kind == "chunk")

    def store_keys(self, store_url: str) -> list[str]:
        """Keys requested inside the store at ``store_url``, relative to it (e.g. ``b08/0.0``)."""
        prefix = urlsplit(store_url).path.rstrip("/") + "/"
        return [p[len(prefix) :] for p in self.keys if p.startswith(prefix)]

    def by_kind(self) -> dict[str, dict[str, int]]:
        """Requests and bytes by kind: ``metadata`` (.zarray, ...), ``chunk`` and ``other``."""
        split = {kind: {"requests": 0, "bytes": 0} for kind in KINDS}
        for record in self.records:
            split[record.kind]["requests"] += 1
            split[record.kind]["bytes"] += record.bytes
        return split

    def as_dict(self) -> dict[str, Any]:
        """Flat figures for tables, myst-nb ``glue`` and benchmarks."""
        split = self.by_kind()
        return {
            "requests": self.requests,
            "bytes_downloaded": self.bytes_downloaded,
            "megabytes": self.bytes_downloaded / 1e6,
            "seconds": self.seconds,
            "chunks_read": self.chunks_read,
            "metadata_requests": split["metadata"]["requests"],
            "metadata_bytes": split["metadata"]["bytes"],
            "chunk_requests": split["chunk"]["requests"],
            "chunk_bytes": split["chunk"]["bytes"],
            "other_requests": split["other"]["requests"],
            "other_bytes": split["other"]["bytes"],
        }

    def summary(self) -> str:
        """One line, e.g. ``37 requests, 0.61 MB downloaded in 0.42 s`` (MB = 10^6 bytes)."""
        n = self.requests
        noun = "request" if n == 1 else "requests"
        megabytes = self.bytes_downloaded / 1e6
        return f"{n} {noun}, {megabytes:.2f} MB downloaded in {self.seconds:.2f} s"

    def __repr__(self) -> str:
        return f"<TrafficMeter: {self.summary()}>"
