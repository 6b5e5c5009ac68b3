"""Retries for every HTTP read the book makes, so a flaky network changes no number it prints.

Why this module exists: the book reads through two HTTP stacks. xarray, zarr and the
``eopf-zarr`` engine fetch Zarr keys through fsspec, which uses aiohttp; pystac-client talks to
the STAC API through ``requests``. Neither retries a failed answer by default, and zarr 2 turns
any ``OSError`` while fetching a chunk (connection refused, a timeout) into "missing chunk", which
it fills with the fill value: a network fault can silently become wrong pixels. :func:`install`
(called by `helpers.data_source.stac_root_url`) fixes both stacks globally, so the seed's plain
``xr.open_datatree(href, **kwargs)`` and ``Client.open(url)`` benefit without any change:

- fsspec: an aiohttp *client middleware* (aiohttp's own mechanism for wrapping each request,
  whose documentation shows retries as its first use) is merged into
  ``fsspec.config.conf["http"]["client_kwargs"]["middlewares"]``, next to the traffic meter's
  trace configs. It retries GET/HEAD on connection errors, timeouts, 408/429/5xx answers, and
  bodies cut off before their ``Content-Length``. For the last it reads the body before handing
  the response on (bodies up to `RetryPolicy.buffer_limit`; Zarr chunks are a few MB), then
  replays it, so callers that stream still stream. When the attempts run out it raises a
  one-line book error (`ServiceUnreachableError`, `InterruptedDownloadError`), never an
  ``OSError`` that zarr would mistake for a missing chunk.
- pystac-client: ``StacApiIO`` sessions get an HTTP adapter with urllib3's ``Retry`` (the
  standard mechanism for ``requests``), plus a retry when a body is cut short, which urllib3
  cannot see because ``requests`` reads bodies after urllib3 has returned. A ``max_retries``
  the caller chose explicitly is respected.
- code that calls ``requests`` itself (the SAFE chapter's token, redirect and download):
  :func:`retrying_session` gives it a session with the same adapter. A streamed body cut off
  mid-way is the caller's to resume (the chapter's download asks for the missing bytes).

What the traffic meter (`helpers.traffic`) sees: one request per logical read, with the bytes of
the answer that was delivered. Attempts that failed are transport, counted in :func:`stats`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import fsspec.config
import requests
from aiohttp.base_protocol import BaseProtocol
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import InterruptedDownloadError, ServiceUnreachableError

_RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# STAC item search is a read, so pystac-client's POST /search is safe to repeat too.
_STAC_RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST"})
_GIVE_UP_HINT = "The service may be busy or down; try again in a few minutes."


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; one policy for both HTTP stacks."""

    attempts: int = 8
    """Tries per request, the first included."""
    backoff: float = 0.1
    """Seconds before the first retry; doubled for each further one."""
    backoff_max: float = 2.0
    """Longest wait between two tries."""
    statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
    """Answers worth asking again."""
    buffer_limit: int = 64 * 2**20
    """Largest body (bytes) read ahead so that a cut-off body can be retried."""

    def wait(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failed tries in a row."""
        return min(self.backoff_max, self.backoff * 2 ** (failures - 1))

    def urllib3_retry(self) -> Retry:
        """The same policy as a urllib3 ``Retry``, for ``requests`` adapters."""
        return Retry(
            total=self.attempts - 1,
            backoff_factor=self.backoff,
            backoff_max=self.backoff_max,
            status_forcelist=sorted(self.statuses),
            allowed_methods=_STAC_RETRIED_METHODS,
            raise_on_status=False,  # the last answer reaches the caller, which reports it
        )


DEFAULT_POLICY = RetryPolicy()

_lock = threading.Lock()
_policy = DEFAULT_POLICY
_stats: Counter[str] = Counter()


def current_policy() -> RetryPolicy:
    """The policy in force for every request made from now on."""
    return _policy


def stats() -> dict[str, int]:
    """Retries made so far in this process, by cause.

    ``status`` (a 408/429/5xx answer), ``connection`` (refused, reset, timed out), ``body``
    (cut off before its end) and ``gave_up`` (requests that ran out of attempts).
    """
    with _lock:
        return {key: _stats[key] for key in ("status", "connection", "body", "gave_up")}


def _count(cause: str) -> None:
    with _lock:
        _stats[cause] += 1


# --- fsspec / aiohttp ------------------------------------------------------------------------

ClientHandler = Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]]

_CONNECTION_ERRORS = (aiohttp.ClientConnectionError, asyncio.TimeoutError)


class _AiohttpRetry:
    """The aiohttp client middleware: one object, reading the current policy on every request."""

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: ClientHandler
    ) -> aiohttp.ClientResponse:
        if request.method not in _RETRIED_METHODS:
            return await handler(request)
        policy = _policy
        url = str(request.url)
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            try:
                response = await handler(request)
            except _CONNECTION_ERRORS as error:
                if last:
                    _count("gave_up")
                    raise ServiceUnreachableError(url, _reason(error), _GIVE_UP_HINT) from None
                _count("connection")
                await asyncio.sleep(policy.wait(attempt))
                continue
            if response.status in policy.statuses:
                response.release()
                if last:
                    _count("gave_up")
                    reason = f"it answered HTTP {response.status} to {attempt} attempts"
                    raise ServiceUnreachableError(url, reason, _GIVE_UP_HINT)
                _count("status")
                await asyncio.sleep(policy.wait(attempt))
                continue
            expected = response.content_length
            if request.method == "GET" and _worth_buffering(response, policy):
                try:
                    await _read_ahead(response)
                except aiohttp.ClientPayloadError:
                    if last:
                        _count("gave_up")
                        received = response.content.total_bytes
                        raise InterruptedDownloadError(url, received, expected) from None
                    _count("body")
                    await asyncio.sleep(policy.wait(attempt))
                    continue
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")


def _worth_buffering(response: aiohttp.ClientResponse, policy: RetryPolicy) -> bool:
    """A body of known, bounded length that has not been read yet."""
    length = response.content_length
    empty = isinstance(response.content, aiohttp.streams.EmptyStreamReader)
    return length is not None and 0 < length <= policy.buffer_limit and not empty


async def _read_ahead(response: aiohttp.ClientResponse) -> None:
    """Read the whole body now (raising if it is cut off), then offer it again as a stream.

    ``response.read()`` keeps the body, so later ``read()`` calls return it; callers that
    stream (``response.content.read(n)``, as fsspec does for downloads) get a fresh reader over
    the same bytes, which reports the same wire byte count as the original (the traffic meter
    reads it). Its protocol is a detached one, so it can never pause a pooled connection.
    """
    body = await response.read()
    wire_bytes = response.content.total_raw_bytes
    replay = aiohttp.StreamReader(
        BaseProtocol(asyncio.get_running_loop()), limit=max(len(body), 2**16)
    )
    replay.feed_data(body)
    replay.feed_eof()
    replay.total_compressed_bytes = wire_bytes
    response.content = replay


def _reason(error: BaseException) -> str:
    """A few words for what went wrong with a connection."""
    if isinstance(error, aiohttp.ClientConnectorError):
        if isinstance(error.os_error, ConnectionRefusedError):
            return "connection refused"
        return (error.os_error.strerror or str(error.os_error)).rstrip(".")
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(error, asyncio.TimeoutError):
        return "no answer in time"
    return " ".join(str(error).split()).rstrip(".") or type(error).__name__


_AIOHTTP_RETRY = _AiohttpRetry()


def _add_middleware(section: dict[str, Any]) -> None:
    """Merge the retry middleware into one fsspec config section, keeping everything else."""
    client_kwargs = section.setdefault("client_kwargs", {})
    current = tuple(client_kwargs.get("middlewares") or ())
    if not any(m is _AIOHTTP_RETRY for m in current):
        client_kwargs["middlewares"] = (*current, _AIOHTTP_RETRY)


# --- requests / pystac-client ----------------------------------------------------------------


class RetryingAdapter(HTTPAdapter):
    """urllib3's ``Retry`` for connections and answers, plus a retry for bodies cut short.

    urllib3 retries only until the headers arrive: ``requests`` reads the body afterwards
    (``preload_content=False``), so a connection dropped mid-body reaches the caller as
    ``ChunkedEncodingError``. For non-streamed requests this adapter reads the body itself and
    sends the request again if it was cut off; streamed requests are left to the caller.
    """

    def __init__(self) -> None:
        super().__init__(max_retries=_policy.urllib3_retry())

    def send(self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any):
        policy = _policy
        self.max_retries = policy.urllib3_retry()
        for attempt in range(1, policy.attempts + 1):
            response = super().send(request, stream=stream, **kwargs)
            if stream or request.method not in _STAC_RETRIED_METHODS:
                return response
            try:
                _ = response.content  # read the body now, inside the retry loop
            except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError):
                response.close()
                if attempt == policy.attempts:
                    _count("gave_up")
                    raise
                _count("body")
                time.sleep(policy.wait(attempt))
                continue
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")


def _patch_stac_api_io() -> None:
    """Give every new ``StacApiIO`` session a `RetryingAdapter` unless ``max_retries`` was given.

    pystac-client builds its ``requests.Session`` inside ``StacApiIO.__init__`` and mounts an
    adapter that retries connections only (``max_retries=5``); ``Client.open(url)`` offers no way
    to change that, so the constructor is wrapped (once) to mount the book's adapter after it.
    """
    from pystac_client.stac_api_io import StacApiIO

    original = StacApiIO.__init__
    if getattr(original, "_book_retries", False):
        return
    names = list(inspect.signature(original).parameters)
    position = names.index("max_retries")  # counting self, as *args does not

    @functools.wraps(original)
    def __init__(self: StacApiIO, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if "max_retries" not in kwargs and len(args) < position:
            adapter = RetryingAdapter()
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)

    __init__._book_retries = True  # type: ignore[attr-defined]
    StacApiIO.__init__ = __init__  # type: ignore[method-assign]


# --- installation ----------------------------------------------------------------------------


def install(policy: RetryPolicy | None = None) -> None:
    """Retry every fsspec and pystac-client request from now on. Idempotent and thread-safe.

    ``policy`` replaces the one in force (for every session, old and new); None keeps it. fsspec
    applies its ``"http"`` and then ``"https"`` config sections to ``HTTPFileSystem``, so an
    ``"https"`` section with its own ``client_kwargs`` gets the middleware as well.
    """
    global _policy
    with _lock:
        if policy is not None:
            _policy = policy
        conf = fsspec.config.conf
        _add_middleware(conf.setdefault("http", {}))
        if "client_kwargs" in conf.get("https", {}):
            _add_middleware(conf["https"])
        _patch_stac_api_io()


def retrying_session() -> requests.Session:
    """A ``requests.Session`` that retries as the book's pystac-client sessions do.

    For code that calls ``requests`` itself, as the SAFE chapter's download flow does: answers
    408/429/5xx and refused or reset connections are retried by `RetryingAdapter`, and so are
    bodies cut short, except streamed ones, which the caller reads and so must resume itself
    (the chapter's download asks for the missing bytes with a ``Range`` header).
    """
    session = requests.Session()
    adapter = RetryingAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
