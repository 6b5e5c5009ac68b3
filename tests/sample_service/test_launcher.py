"""Starting, reusing and refusing: the launcher and ``python -m helpers.sample_service``.

Every service these tests start is stopped by the test (by its own process
id) and is told to exit after a short idle time in case a test dies first.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.errors import PortInUseError
from helpers.sample_service import launcher
from helpers.sample_service.launcher import ThreadedServer

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def service_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "EOPF_SAMPLE_IDLE_SECONDS": "60", **extra}


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture
def other_http_server() -> Iterator[int]:
    """A plain HTTP server (not ours) holding a port."""

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_running_service_is_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    with ThreadedServer() as server:
        monkeypatch.setenv("EOPF_SAMPLE_PORT", str(server.port))
        monkeypatch.setattr(launcher, "_start", lambda port: pytest.fail("started a second one"))
        assert launcher.probe(server.port) == "ours"
        assert launcher.ensure_running() == server.url


def test_another_program_on_the_port_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, other_http_server: int
) -> None:
    monkeypatch.setenv("EOPF_SAMPLE_PORT", str(other_http_server))
    monkeypatch.setattr(launcher, "_start", lambda port: pytest.fail("started despite the port"))
    with pytest.raises(PortInUseError) as caught:
        launcher.ensure_running()
    message = str(caught.value)
    assert "\n" not in message
    assert f"Port {other_http_server} is in use" in message
    assert f"EOPF_SAMPLE_PORT={other_http_server + 1}" in message


def test_racing_starts_end_with_one_detached_service(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("EOPF_SAMPLE_PORT", str(port))
    monkeypatch.setenv("EOPF_SAMPLE_IDLE_SECONDS", "60")
    # Two callers that both find the port free (each one's first probe), so both start one.
    real_probe, real_start = launcher.probe, launcher._start
    first_probe_done: set[int] = set()
    started: list[subprocess.Popen[bytes]] = []

    def probe(port: int, timeout: float = 2.0) -> launcher.PortState:
        caller = threading.get_ident()
        if caller not in first_probe_done:
            first_probe_done.add(caller)
            return "free"
        return real_probe(port, timeout)

    def start(port: int) -> subprocess.Popen[bytes]:
        started.append(real_start(port))
        return started[-1]

    monkeypatch.setattr(launcher, "probe", probe)
    monkeypatch.setattr(launcher, "_start", start)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(launcher.ensure_running())) for _ in range(2)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results == [launcher.root_url(port)] * 2
        assert len(started) == 2
        deadline = time.monotonic() + 10  # the loser exits at once: its bind fails
        while sum(p.poll() is None for p in started) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [p for p in started if p.poll() is None]
        assert len(alive) == 1
        (loser,) = [p for p in started if p not in alive]
        assert loser.returncode == 2
        (service,) = alive
        assert real_probe(port) == "ours"
        # Detached: its own session, stdin from /dev/null, output to the log, not our pipes.
        assert os.getsid(service.pid) == service.pid
        assert os.readlink(f"/proc/{service.pid}/fd/0") == "/dev/null"
        log = launcher.log_path(port)
        assert os.readlink(f"/proc/{service.pid}/fd/1") == str(log)
        assert os.readlink(f"/proc/{service.pid}/fd/2") == str(log)
        assert f"Port {port} is already in use" in log.read_text()
    finally:
        for process in started:
            stop(process)
        launcher.log_path(port).unlink(missing_ok=True)


def test_background_service_exits_when_idle() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.sample_service", "--background", "--port", str(port)],
        cwd=REPO,
        env=service_env(EOPF_SAMPLE_IDLE_SECONDS="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert f"EOPF sample service at http://127.0.0.1:{port}/ (background" in output
    assert "Idle for 1 s: stopping." in output


def test_serve_on_a_busy_port_says_so_in_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "helpers.sample_service"],
            cwd=REPO,
            env=service_env(EOPF_SAMPLE_PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"Port {port} is already in use; choose another one, "
        f"e.g. EOPF_SAMPLE_PORT={port + 1} make serve"
    ]


def test_serve_prints_its_url_and_stops_on_ctrl_c() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.sample_service"],
        cwd=REPO,
        env=service_env(EOPF_SAMPLE_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == f"EOPF sample service at http://127.0.0.1:{port}/ (Ctrl-C to stop)"
        assert launcher.probe(port) == "ours"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
