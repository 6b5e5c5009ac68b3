"""Start the sample service in the background, or reuse the one already running.

Why this module exists: every notebook and test needs the service, and none
should care whether it was already started. `ensure_running` asks the port
first: a server that identifies itself as the sample service (``Server:
eopf-sample-service/...`` on ``/``) is reused; another program gets a one-line
`PortInUseError`; a free port gets a detached ``python -m helpers.sample_service
--background`` whose output goes to a log file (never the caller's stdout or
stderr, which would keep CI pipes open) and which exits by itself when idle.
Two processes starting it at once end with one server: the loser's bind fails
and both then find the winner answering.

`ThreadedServer` runs the service inside the current process instead, on a
free port, for tests and benchmarks that must not depend on a shared server.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from . import settings
from .app import build_app
from .errors import PortInUseError, ServiceUnreachableError, SettingError
from .http_layer import JsonErrorRunner
from .polling import wait_until

START_TIMEOUT_SECONDS = 30.0
SERVER_PREFIX = f"{settings.SERVICE_NAME}/"
PortState = Literal["ours", "other", "silent", "free"]

# Popen objects of started services, kept so they are not reported as leaked when
# collected; the services themselves outlive this process by design.
_STARTED: list[subprocess.Popen[bytes]] = []


def sample_port() -> int:
    """The sample service's port: ``EOPF_SAMPLE_PORT``, default 8765 (`settings.port`)."""
    return settings.port()


def root_url(port: int) -> str:
    """The service's root URL on ``port`` (with the trailing slash)."""
    return f"http://127.0.0.1:{port}/"


def probe(port: int, timeout: float = 2.0) -> PortState:
    """Who holds ``port`` on 127.0.0.1.

    "ours": a sample service answered; "other": another program answered;
    "silent": something accepted the connection but did not answer in time (a
    service still starting, or a program that is not HTTP); "free": refused.
    Uses http.client directly so no proxy setting can reroute a loopback probe.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/", headers={"Accept": "application/json"})
        response = connection.getresponse()
        response.read()
    except ConnectionRefusedError:
        return "free"
    except TimeoutError:
        return "silent"
    except (OSError, http.client.HTTPException):
        return "other"
    finally:
        connection.close()
    return "ours" if (response.getheader("Server") or "").startswith(SERVER_PREFIX) else "other"


def catalogue_url(port: int, date: str) -> str:
    """The STAC root of the catalogue of ``date``: ``/`` on the tutorial's date, else ``/<date>/``.

    Every service serves every supported date, each below its own root, so a service started
    for one date is never mistaken for another: the URL, not the process, carries the date.
    """
    url = root_url(port)
    return url if date == settings.TUTORIAL_DATE else f"{url}{date}/"


def ensure_running(timeout: float = START_TIMEOUT_SECONDS) -> str:
    """The STAC root URL of the catalogue of ``EOPF_SAMPLE_DATE``, starting a service if needed.

    A bad date is one `SettingError` line naming the supported ones.
    """
    date = settings.sample_date()
    port = sample_port()
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
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _ensure_service(port: int, timeout: float) -> str:
    """The root URL of a running sample service on ``port``, starting one if the port is free."""
    url = root_url(port)
    state = probe(port)
    if state == "ours":
        return url
    if state == "other":
        raise _port_in_use(port)
    process = _start(port) if state == "free" else None
    last_state: list[PortState] = [state]

    def settled() -> str | None:
        state = last_state[0] = probe(port)
        if state in ("ours", "other"):
            return state
        exited = process is not None and process.poll() is not None
        # It died and nobody else holds the port: its log says why.
        return "died" if exited and state == "free" else None

    outcome = wait_until(settled, timeout)
    if outcome == "ours":
        return url
    if outcome == "other":
        raise _port_in_use(port)
    if outcome == "died":
        raise ServiceUnreachableError(
            url, "the sample service stopped while starting", f"See its log: {log_path(port)}"
        )
    if last_state[0] == "silent" and (
        process is None or process.returncode == settings.EXIT_CANNOT_LISTEN
    ):
        raise _port_in_use(port)
    raise ServiceUnreachableError(
        url,
        f"the sample service did not answer within {timeout:g} s",
        f"See its log: {log_path(port)}",
    )


def _port_in_use(port: int) -> PortInUseError:
    return PortInUseError(
        port,
        f"Stop it, or run the sample service on another port: {settings.PORT_VAR}={port + 1}.",
    )


def _start(port: int) -> subprocess.Popen[bytes]:
    """Launch a detached background service; its output goes to `log_path`."""
    log = log_path(port)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "helpers.sample_service", "--background", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=settings.repo_root(),
            env=env,
        )
    _STARTED.append(process)
    return process


def log_path(port: int) -> Path:
    """Where a background service on ``port`` writes its log (created if needed).

    ``<repo>/.cache/sample-service/service-<port>.log``, or a temporary
    directory when the project directory is not writable.
    """
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

    For tests and benchmarks: nothing is shared with other processes and
    nothing outlives the ``with`` block::

        with ThreadedServer() as server:
            Client.open(server.url)
    """

    def __init__(self, port: int = 0, **app_options: Any) -> None:
        self._port = port
        self._app_options = app_options
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="sample-service", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        """The root URL, with the trailing slash."""
        return root_url(self.port)

    def start(self) -> ThreadedServer:
        """Start serving; returns once the port accepts requests."""
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise self._error
        if not self._ready.is_set():
            raise ServiceUnreachableError("127.0.0.1", "the in-process service did not start")
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            sock = socket.create_server(("127.0.0.1", self._port))
            self.port = sock.getsockname()[1]
            runner = JsonErrorRunner(build_app(**self._app_options), access_log=None)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock).start())
            self._stop = asyncio.Event()
            self._ready.set()
            loop.run_until_complete(self._stop.wait())
            loop.run_until_complete(runner.cleanup())
        except BaseException as error:  # reported to the starting thread
            self._error = error
            self._ready.set()
        finally:
            loop.close()
