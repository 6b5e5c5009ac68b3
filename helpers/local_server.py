"""Serve a local folder over HTTP, on loopback or behind a simulated network.

Why this module exists: the optimisation chapter writes its own Zarr stores and must read them
over HTTP, the way the EOPF stores are read, so that `TrafficMeter` counts every request; and it
shows what each choice costs on a realistic network, which loopback is not. Starting a web
server is plumbing, not the lesson, so it lives here rather than in a notebook cell.

The server runs in a separate process (a server thread inside the notebook would compete with
the reads it serves for the interpreter lock, and blur the timings). It serves files and lists
folders as HTML (as an object store's list API lets a client discover keys), and it can play a
network profile with the sample service's own fault injection: ``latency`` seconds before each
answer and a shared link of ``bandwidth`` Mbit/s (`helpers.sample_service.faults`).

    with FolderServer(folder) as server:                       # loopback
        xr.open_zarr(f"{server.url}/b08.zarr")
    with FolderServer(folder, NetworkProfile(0.03, 100)) as far:  # 30 ms, 100 Mbit/s
        ...
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import EOPFBookError
from .sample_service.polling import wait_until

START_TIMEOUT_SECONDS = 30.0


class FolderServerError(EOPFBookError):
    """The local folder server could not be started."""


@dataclass(frozen=True)
class NetworkProfile:
    """A network as a reader meets it: round-trip time and the bandwidth of the link."""

    round_trip_s: float
    """Seconds added before each answer (one round trip per request on an open connection)."""
    bandwidth_mbit_s: float
    """Megabits per second shared by every answer's body."""

    def fault_spec(self) -> str:
        """The profile in the sample service's ``EOPF_SAMPLE_FAULTS`` syntax."""
        return f"latency={self.round_trip_s:g},bandwidth={self.bandwidth_mbit_s:g}"

    def __str__(self) -> str:
        return f"{self.round_trip_s * 1000:g} ms round trip, {self.bandwidth_mbit_s:g} Mbit/s"


class FolderServer:
    """A web server for one folder, in its own process; a context manager that stops it."""

    def __init__(self, folder: Path | str, profile: NetworkProfile | None = None) -> None:
        self.folder = Path(folder)
        self.profile = profile
        if not self.folder.is_dir():
            raise FolderServerError(f"cannot serve {self.folder}: it is not a folder")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "helpers.local_server", str(self.folder), str(self.port)]
        if profile is not None:
            command += ["--faults", profile.fault_spec()]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self._wait_until_answering()

    def _wait_until_answering(self) -> None:
        def started() -> str | None:
            if self._process.poll() is not None:
                return "exited"
            try:
                urllib.request.urlopen(f"{self.url}/", timeout=1).close()
                return "answering"
            except OSError:
                return None

        outcome = wait_until(started, START_TIMEOUT_SECONDS)
        if outcome == "exited":
            error = (self._process.stderr.read() if self._process.stderr else "").strip()
            last = error.splitlines()[-1] if error else f"exit code {self._process.returncode}"
            raise FolderServerError(f"the folder server stopped at start: {last}")
        if outcome is None:
            self.stop()
            raise FolderServerError(
                f"the folder server did not answer within {START_TIMEOUT_SECONDS:g} s"
            )

    def stop(self) -> None:
        """Stop the server process (idempotent)."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._process.stderr is not None:
            self._process.stderr.close()

    def __enter__(self) -> FolderServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f" behind {self.profile}" if self.profile else ""
        return f"FolderServer({str(self.folder)!r} at {self.url}{where})"


def _free_port() -> int:
    """A port the operating system says is free on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(folder: Path, port: int, faults: str | None) -> None:
    """Run the server in the foreground (the child process).

    Files are answered from memory (`web.Response`), not streamed, so that the sample
    service's fault injection knows each body's size and can pace it on the link; folders
    are listed as HTML links with absolute paths, which fsspec's HTTP file system follows.
    """
    from aiohttp import web

    from .sample_service.faults import parse

    root = folder.resolve()

    async def answer(request: web.Request) -> web.StreamResponse:
        target = (root / request.match_info["path"]).resolve()
        if not target.is_relative_to(root) or not target.exists():
            raise web.HTTPNotFound()
        if target.is_file():
            return web.Response(body=target.read_bytes(), content_type=_content_type(target))
        base = "/" + target.relative_to(root).as_posix().strip(".").strip("/")
        links = "".join(
            f'<li><a href="{base.rstrip("/")}/{entry.name}{"/" if entry.is_dir() else ""}">'
            f"{entry.name}</a></li>"
            for entry in sorted(target.iterdir())
        )
        return web.Response(
            text=f"<html><body><ul>{links}</ul></body></html>", content_type="text/html"
        )

    middlewares = [parse(faults).middleware()] if faults else []
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/{path:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _content_type(path: Path) -> str:
    """JSON for Zarr's metadata documents, bytes for everything else."""
    return (
        "application/json"
        if path.name.startswith(".z") or path.suffix == ".json"
        else ("application/octet-stream")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a folder over HTTP on loopback.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--faults", help="EOPF_SAMPLE_FAULTS syntax, e.g. latency=0.03")
    arguments = parser.parse_args(argv)
    _serve(arguments.folder, arguments.port, arguments.faults)


if __name__ == "__main__":
    main()
