"""Start the sample service in the background, or reuse the one already running.

`ensure_running` asks the port first: a server whose ``Server`` header names the sample service
is reused; another program is one `PortInUseError` line; a free port gets a detached
``python -m helpers.sample_service --background`` that logs to a file (never the caller's
pipes, which would keep CI jobs open) and exits when idle. Two racing starts end with one
server: the loser's bind fails and both find the winner. `ThreadedServer` runs the service in
this process instead, for tests and benchmarks. Both serve through `JsonErrorRunner`.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
import threading
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from . import settings
from .app import build_app
from .errors import PortInUseError, ServiceUnreachableError, SettingError, one_line
from .polling import wait_until

START_TIMEOUT_SECONDS = 30.0
SERVER_PREFIX = f"{settings.SERVICE_NAME}/"
PortState = Literal["ours", "other", "silent", "free"]

# Started services' Popen objects, kept so they are not reported as leaked: they outlive us.
_STARTED: list[subprocess.Popen[bytes]] = []


def root_url(port: int) -> str:
    """The service's root URL on ``port`` (with the trailing slash)."""
    return f"http://127.0.0.1:{port}/"


def _get(port: int, path: str, timeout: float) -> http.client.HTTPResponse:
    """``GET path`` on 127.0.0.1 with http.client, so no proxy setting can reroute it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def probe(port: int, timeout: float = 2.0) -> PortState:
    """Who holds ``port`` on 127.0.0.1.

    "ours": a sample service answered; "other": another program answered; "silent": something
    accepted the connection but did not answer in time (a service still starting, or not
    HTTP); "free": refused.
    """
    try:
        response = _get(port, "/", timeout)
    except ConnectionRefusedError:
        return "free"
    except TimeoutError:
        return "silent"
    except (OSError, http.client.HTTPException):
        return "other"
    return "ours" if (response.getheader("Server") or "").startswith(SERVER_PREFIX) else "other"


def catalogue_url(port: int, date: str) -> str:
    """The STAC root of the catalogue of ``date``: ``/`` on the tutorial's date, else ``/<date>/``.

    Every service serves every date below its own root: the URL, not the process, carries it.
    """
    url = root_url(port)
    return url if date == settings.TUTORIAL_DATE else f"{url}{date}/"


def ensure_running(timeout: float = START_TIMEOUT_SECONDS) -> str:
    """The STAC root URL of the catalogue of ``EOPF_SAMPLE_DATE``, starting a service if needed.

    A bad date is one `SettingError` line naming the supported ones.
    """
    date = settings.sample_date()
    port = settings.port()
    url = _ensure_service(port, timeout)
    dated = catalogue_url(port, date)
    if dated != url and not _serves(port, settings.date_prefix(date) + "/"):
        raise ServiceUnreachableError(
            url,
            f"the sample service on port {port} is older code without the catalogue of {date}",
            f"Stop it, or use another port: {settings.PORT_VAR}={port + 1}.",
        )
    return dated


def _serves(port: int, path: str, timeout: float = 5.0) -> bool:
    """Whether the service on ``port`` answers ``GET path`` with 200."""
    try:
        return _get(port, path, timeout).status == 200
    except (OSError, http.client.HTTPException):
        return False


def _ensure_service(port: int, timeout: float) -> str:
    """The root URL of a running sample service on ``port``, starting one if the port is free."""
    url = root_url(port)
    last = [probe(port)]
    process = _start(port) if last[0] == "free" else None

    def settled() -> str | None:
        if last[0] not in ("ours", "other"):
            last[0] = probe(port)
        if last[0] in ("ours", "other"):
            return last[0]
        exited = process is not None and process.poll() is not None
        # It died and nobody else holds the port: its log says why.
        return "died" if exited and last[0] == "free" else None

    outcome = wait_until(settled, timeout)
    if outcome == "ours":
        return url
    silent = last[0] == "silent" and (
        process is None or process.returncode == settings.EXIT_CANNOT_LISTEN
    )
    if outcome == "other" or silent:
        raise _port_in_use(port)
    if outcome == "died":
        reason = "the sample service stopped while starting"
    else:
        reason = f"the sample service did not answer within {timeout:g} s"
    raise ServiceUnreachableError(url, reason, f"See its log: {log_path(port)}")


def _port_in_use(port: int) -> PortInUseError:
    return PortInUseError(
        port,
        f"Stop it, or run the sample service on another port: {settings.PORT_VAR}={port + 1}.",
    )


def _start(port: int) -> subprocess.Popen[bytes]:
    """Launch a detached background service; its output goes to `log_path`."""
    log = log_path(port)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "helpers.sample_service", "--background", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=settings.repo_root(),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    _STARTED.append(process)
    return process


def log_path(port: int) -> Path:
    """Where a background service on ``port`` logs: ``service-<port>.log`` in `cache_dir`."""
    try:
        path = settings.cache_dir("logs") / f"service-{port}.log"
        with path.open("ab"):
            return path
    except (OSError, SettingError):
        raise ServiceUnreachableError(
            root_url(port), "no writable folder for its log file"
        ) from None


class ThreadedServer:
    """The sample service in a daemon thread of this process, on a free loopback port.

    Nothing is shared with other processes and nothing outlives ``with ThreadedServer() as s:``.
    """

    def __init__(self, port: int = 0, **app_options: Any) -> None:
        self._port = port
        self._app_options = app_options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="sample-service", daemon=True
        )
        self._runner: JsonErrorRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The root URL, with the trailing slash."""
        return root_url(self.port)

    def start(self) -> ThreadedServer:
        """Start serving; returns once the port accepts requests."""
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=30)
        except TimeoutError:
            raise ServiceUnreachableError(
                "127.0.0.1", "the in-process service did not start"
            ) from None
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop.is_closed():
            return
        if self._runner is not None:
            cleanup = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            cleanup.result(timeout=30)
            self._runner = None  # the application and its caches go with it
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self) -> None:
        sock = socket.create_server(("127.0.0.1", self._port))
        self.port = sock.getsockname()[1]
        self._runner = JsonErrorRunner(build_app(**self._app_options), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()


# --- HTTP errors aiohttp answers before the application sees the request -------------------

MAX_LINE_BYTES = 8190
"""aiohttp's limit on the request line and each header line (its default)."""


class _JsonErrorHandler(RequestHandler):
    """aiohttp's protocol handler, answering its own errors as STAC API JSON.

    aiohttp refuses some requests itself (a line over 8190 bytes, a malformed request line)
    with plain text that the application's error middleware never sees.
    """

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # The parent logs the error and refuses to answer twice; its plain-text body is dropped.
        super().handle_error(request, status, exc, message)
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        if isinstance(exc, LineTooLong):
            description = (
                f"The request line or a header is longer than {MAX_LINE_BYTES} bytes; "
                "send a long search as a POST /search body instead."
            )
        elif status >= 500:
            description = "The service failed to handle the request."
        else:
            description = one_line(message or exc or phrase)
        code = "BadRequest" if status == 400 else phrase.replace(" ", "") or "HTTPError"
        response = web.json_response({"code": code, "description": description}, status=status)
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer HTTP-level errors as STAC API JSON."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server
