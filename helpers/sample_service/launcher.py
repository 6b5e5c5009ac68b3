"""Start the sample service in the background or reuse the one running; or serve right here.

`ensure_running` asks the port first (`probe`): a server whose ``Server`` header names the
sample service is reused; another program is one `PortInUseError` line; a free port gets a
detached ``python -m helpers.sample_service --background`` (`_start`) that logs to a file
(never the caller's pipes, which would keep CI jobs open) and exits when idle. Two racing starts
end with one server: the loser's bind fails and both find the winner. `serve` is that command;
`ThreadedServer` runs the service in this process, for tests and benchmarks. Both answer the
errors aiohttp's parser raises itself as STAC API JSON (`JsonErrorRunner`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from . import settings
from .app import ACTIVITY, build_app
from .errors import PortInUseError, ServiceUnreachableError, StacApiError
from .polling import wait_until

START_TIMEOUT_SECONDS = 30.0
PortState = Literal["ours", "other", "silent", "free"]

# Started services' Popen objects, kept so they are not reported as leaked: they outlive us.
_STARTED: list[subprocess.Popen[bytes]] = []


def root_url(port: int) -> str:
    """The service's root URL on ``port`` (with the trailing slash)."""
    return f"http://127.0.0.1:{port}/"


def catalogue_url(port: int, date: str) -> str:
    """The STAC root of the catalogue of ``date``: ``/`` on the tutorial's date, else ``/<date>/``.

    Every service serves every date below its own root: the URL, not the process, carries it.
    """
    return root_url(port) + ("" if date == settings.TUTORIAL_DATE else f"{date}/")


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
        server = _get(port, "/", timeout).getheader("Server") or ""
    except ConnectionRefusedError:
        return "free"
    except TimeoutError:
        return "silent"
    except (OSError, http.client.HTTPException):
        return "other"
    return "ours" if server.startswith(f"{settings.SERVICE_NAME}/") else "other"


def ensure_running(timeout: float = START_TIMEOUT_SECONDS) -> str:
    """The STAC root URL of the catalogue of ``EOPF_SAMPLE_DATE``, starting a service if needed.

    A bad date is one `SettingError` line naming the supported ones.
    """
    date, port = settings.sample_date(), settings.port()
    url = _ensure_service(port, timeout)
    dated = catalogue_url(port, date)
    with contextlib.suppress(OSError, http.client.HTTPException):
        if dated == url or _get(port, settings.date_prefix(date) + "/", 5.0).status == 200:
            return dated
    reason = f"the sample service on port {port} is older code without the catalogue of {date}"
    raise ServiceUnreachableError(url, reason, f"Stop it, or use another port: {_next_port(port)}.")


def _ensure_service(port: int, timeout: float) -> str:
    """The root URL of a running sample service on ``port``, starting one if the port is free."""
    state = probe(port)
    process = _start(port) if state == "free" else None

    def settled() -> str | None:
        nonlocal state
        state = probe(port)
        # Died while nobody else holds the port: its log says why.
        died = process is not None and process.poll() is not None and state == "free"
        return state if state in ("ours", "other") else "died" if died else None

    outcome = wait_until(settled, timeout)
    if outcome == "ours":
        return root_url(port)
    lost_race = process is None or process.returncode == settings.EXIT_CANNOT_LISTEN
    if outcome == "other" or (state == "silent" and lost_race):
        raise PortInUseError(
            port, f"Stop it, or run the sample service on another port: {_next_port(port)}."
        )
    reason = (
        "stopped while starting" if outcome == "died" else f"did not answer within {timeout:g} s"
    )
    raise ServiceUnreachableError(
        root_url(port), f"the sample service {reason}", f"See its log: {log_path(port)}"
    )


def _next_port(port: int) -> str:
    return f"{settings.PORT_VAR}={port + 1}"


def _start(port: int) -> subprocess.Popen[bytes]:
    """Launch a detached background service; its output goes to `log_path`."""
    with log_path(port).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "helpers.sample_service", "--background", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=settings.repo_root(),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    _STARTED.append(process)
    return process


def log_path(port: int) -> Path:
    """Where a background service on ``port`` logs: ``service-<port>.log`` in `cache_dir`."""
    return settings.cache_dir("logs") / f"service-{port}.log"


# --- Serving ------------------------------------------------------------------------------------


def serve(port: int, date: str, *, background: bool) -> int:
    """``python -m helpers.sample_service``: serve on ``port`` until stopped; the exit code.

    In the foreground it logs requests until Ctrl-C; in the background it logs none and exits
    after ``EOPF_SAMPLE_IDLE_SECONDS`` without a request. A port it cannot take is one line.
    """
    try:
        sock = socket.create_server(("127.0.0.1", port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            how = _next_port(port) + ("" if background else " make serve")
            print(f"Port {port} is already in use; choose another one, e.g. {how}", file=sys.stderr)
        else:
            print(f"Cannot listen on 127.0.0.1:{port}: {error.strerror or error}", file=sys.stderr)
        return settings.EXIT_CANNOT_LISTEN
    idle = settings.idle_seconds() if background else None
    how = f"background; exits after {idle:g} s idle" if idle else "Ctrl-C to stop"
    dates = ", ".join(f"/{d}/" for d in settings.SUPPORTED_DATES)
    banner = (
        f"EOPF sample service at {catalogue_url(port, date)} ({how})\n"
        f"Catalogue of {date} ({settings.DATE_VAR}); every date has its own root: {dates}"
    )
    if not background:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while shutting down
        asyncio.run(_serve_until_stopped(sock, banner, idle))
    return 0


async def _serve_until_stopped(sock: socket.socket, banner: str, idle: float | None) -> None:
    """Serve on ``sock`` until SIGINT/SIGTERM, or (if ``idle``) until idle that long."""
    app = build_app()
    runner = await _serve_on(sock, app, log_requests=idle is None)
    print(banner, flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(30.0, idle / 4) if idle else None)
            except TimeoutError:
                if idle and app[ACTIVITY].idle_seconds() >= idle:
                    print(f"Idle for {idle:g} s: stopping.", flush=True)
                    break
    finally:
        await runner.cleanup()


async def _serve_on(sock: socket.socket, app: web.Application, log_requests: bool) -> web.AppRunner:
    """Serve ``app`` on the bound ``sock``; the runner whose ``cleanup`` stops it."""
    runner = JsonErrorRunner(app, **({} if log_requests else {"access_log": None}))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


class ThreadedServer:
    """The sample service in a daemon thread of this process, on a free loopback port.

    Nothing is shared with other processes and nothing outlives ``with ThreadedServer() as s:``.
    """

    def __init__(self, port: int = 0, **app_options: Any) -> None:
        self.port, self._app_options = port, app_options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The root URL, with the trailing slash."""
        return root_url(self.port)

    def __enter__(self) -> ThreadedServer:
        """Start serving; returns once the port accepts requests."""
        self._thread.start()
        try:
            sock = socket.create_server(("127.0.0.1", self.port))
            self.port = sock.getsockname()[1]
            serving = _serve_on(sock, build_app(**self._app_options), log_requests=False)
            self._runner = asyncio.run_coroutine_threadsafe(serving, self._loop).result(timeout=30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop serving (the application and its caches go with it) and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


# --- HTTP errors aiohttp answers before the application sees the request -------------------


class _JsonErrorHandler(RequestHandler):
    """aiohttp's protocol handler, answering its own errors as STAC API JSON.

    aiohttp refuses some requests itself (a line over its limit of 8190 bytes, a malformed
    request line) with plain text that the application's error middleware never sees.
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
            message = (
                "The request line or a header is longer than 8190 bytes; "
                "send a long search as a POST /search body instead."
            )
        elif status >= 500:
            message = "The service failed to handle the request."
        code = "BadRequest" if status == 400 else phrase.replace(" ", "") or "HTTPError"
        error = StacApiError(status, code, str(message or exc or phrase))
        response = web.json_response(error.body(), status=status)
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
