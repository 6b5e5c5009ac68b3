"""Which STAC API the book reads, and how its errors reach the reader.

What must hold: without ``EOPF_STAC_URL`` the local service is used (and
said to be synthetic); with it, the URL is used if it answers as a STAC API
and is otherwise refused in one line that names it and says how to fall back;
unknown collections and items raise the book's one-line errors; inside
IPython those errors print as ``Name: message`` without a traceback.
"""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pystac_client import Client

from helpers import data_source
from helpers.errors import (
    EOPFBookError,
    ServiceUnreachableError,
    UnknownCollectionError,
    UnknownItemError,
)
from helpers.sample_service import launcher

REPO = Path(__file__).resolve().parents[2]
S2_ITEM = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def test_without_the_variable_the_sample_service_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EOPF_STAC_URL", raising=False)
    monkeypatch.setattr(launcher, "ensure_running", lambda: "http://127.0.0.1:9/")
    assert data_source.is_sample()
    assert data_source.stac_root_url() == "http://127.0.0.1:9/"
    line = data_source.describe_source()
    assert "local sample service at http://127.0.0.1:9/" in line
    assert "synthetic" in line and "\n" not in line


def test_a_reachable_stac_url_is_used_as_given(
    monkeypatch: pytest.MonkeyPatch, sample_service_url: str
) -> None:
    monkeypatch.setenv("EOPF_STAC_URL", sample_service_url.rstrip("/"))
    monkeypatch.setattr(launcher, "ensure_running", lambda: pytest.fail("started the sample"))
    assert not data_source.is_sample()
    assert data_source.stac_root_url() == sample_service_url
    assert data_source.describe_source() == (
        f"Using the STAC API at {sample_service_url} (from EOPF_STAC_URL)."
    )


def test_an_unreachable_stac_url_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    monkeypatch.setenv("EOPF_STAC_URL", url)
    with pytest.raises(ServiceUnreachableError) as caught:
        data_source.stac_root_url()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"Cannot reach {url}: connection refused.")
    assert "unset EOPF_STAC_URL to use the local sample service" in message


def test_a_url_that_is_not_a_stac_api_is_refused(
    monkeypatch: pytest.MonkeyPatch, sample_service_url: str
) -> None:
    monkeypatch.setenv("EOPF_STAC_URL", sample_service_url + "nowhere")
    with pytest.raises(ServiceUnreachableError, match="it answered HTTP 404"):
        data_source.stac_root_url()

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>a web page</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("EOPF_STAC_URL", f"http://127.0.0.1:{server.server_address[1]}/")
        with pytest.raises(ServiceUnreachableError, match="not with a STAC landing page"):
            data_source.stac_root_url()
    finally:
        server.shutdown()
        server.server_close()


def test_a_non_http_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EOPF_STAC_URL", "stac.core.eopf.eodc.eu")
    with pytest.raises(ServiceUnreachableError, match="not an http"):
        data_source.stac_root_url()


def test_get_item_names_what_is_missing(sample_service_url: str) -> None:
    client = Client.open(sample_service_url)
    assert data_source.get_item(client, "sentinel-2-l2a", S2_ITEM).id == S2_ITEM
    with pytest.raises(UnknownCollectionError) as caught:
        data_source.get_item(client, "sentinel-2-l3", S2_ITEM)
    assert "No collection 'sentinel-2-l3'" in str(caught.value)
    assert "sentinel-2-l2a" in str(caught.value)  # the known ones are listed
    with pytest.raises(UnknownItemError) as caught:
        data_source.get_item(client, "sentinel-2-l2a", "S2B_MSIL2A_TYPO")
    message = str(caught.value)
    assert "No item 'S2B_MSIL2A_TYPO' in collection 'sentinel-2-l2a'" in message
    assert "client.search(collections=['sentinel-2-l2a']" in message
    assert "\n" not in message


def test_book_errors_fold_to_one_line() -> None:
    assert str(EOPFBookError("first\n  second\tthird")) == "first second third"


def test_ipython_prints_book_errors_as_one_line() -> None:
    script = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_cell('import helpers.data_source')\n"
        'shell.run_cell("from helpers.errors import UnknownItemError; '
        "raise UnknownItemError('sentinel-2-l2a', 'S2X')\")\n"
        "result = shell.run_cell('1/0')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in done.stdout.splitlines() if "UnknownItemError" in line]
    assert lines == [
        "UnknownItemError: No item 'S2X' in collection 'sentinel-2-l2a' (mistyped, or gone from "
        "the rolling archive). Search for a similar one, e.g. client.search(collections="
        "['sentinel-2-l2a'], bbox=..., datetime=...)."
    ]
    # Other errors keep their usual traceback.
    assert "ZeroDivisionError" in done.stdout and "Traceback" in done.stdout
    assert done.stdout.count("Traceback") == 1


def test_pixel_values_note_follows_the_source(monkeypatch) -> None:
    monkeypatch.delenv("EOPF_STAC_URL", raising=False)
    assert "synthetic" in data_source.pixel_values_note()
    monkeypatch.setenv("EOPF_STAC_URL", "https://stac.example.org/")
    note = data_source.pixel_values_note()
    assert "live" in note and "https://stac.example.org/" in note and "synthetic" not in note
