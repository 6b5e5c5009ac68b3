"""Every setting and shared fact of the sample service: environment variables, port, paths.

Each setting has one name, one default and one reader here (``book/data_sources.md`` lists
the variables).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import SettingError

PORT_VAR = "EOPF_SAMPLE_PORT"
IDLE_VAR = "EOPF_SAMPLE_IDLE_SECONDS"
CACHE_VAR = "EOPF_SAMPLE_CACHE"
FAULTS_VAR = "EOPF_SAMPLE_FAULTS"
DATE_VAR = "EOPF_SAMPLE_DATE"

TUTORIAL_DATE = "2025-06-18"
"""The date of the tutorial's figures: the default catalogue, served at the root ``/``."""
CURRENT_DATE = "2026-11-29"
"""Today, as far as the book's facts reach (``live-service-2026.md``)."""
SUPPORTED_DATES = (TUTORIAL_DATE, CURRENT_DATE)
"""The dates whose catalogue the service replicates; each is served below ``/<date>/`` too."""

DEFAULT_PORT = 8765
DEFAULT_IDLE_SECONDS = 20 * 60
EXIT_CANNOT_LISTEN = 2
"""Exit code of the entry script when it cannot take its port (the launcher checks it)."""
SERVICE_NAME = "eopf-sample-service"
"""Prefix of the ``Server`` header, by which the launcher recognises the service."""

# --- The SAFE replica's facts, shared with helpers.credentials -------------------------------
SAMPLE_USERNAME = "eopf-book-reader"
"""User name the sample token endpoint accepts (documented; it protects nothing)."""
SAMPLE_PASSWORD = "sample-service-only"
"""Password the sample token endpoint accepts (documented; it protects nothing)."""
CLIENT_ID = "cdse-public"
"""The public OpenID client CDSE users authenticate with."""
SAFE_PRODUCT_ID = "S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416"
"""The seed's SAFE example: the same acquisition as its Sentinel-2 Zarr example."""
TOKEN_PATH = "/auth/realms/CDSE/protocol/openid-connect/token"
SAFE_STAC_PREFIX = "/safe-stac"
SAFE_COLLECTION_ID = "SENTINEL-2"
SAFE_ITEM_ID = f"{SAFE_PRODUCT_ID}.SAFE"


def _setting(name: str, given: str | None, default: object) -> str:
    """``given`` (a command-line value), else the environment variable ``name``, else default."""
    return (given if given is not None else os.environ.get(name, "")).strip() or str(default)


def port(text: str | None = None) -> int:
    """The service's port: ``text`` if given, else ``EOPF_SAMPLE_PORT``, default 8765."""
    text = _setting(PORT_VAR, text, DEFAULT_PORT)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingError(f"{PORT_VAR} must be a port number from 1 to 65535, got '{text}'.")
    return int(text)


def sample_date(text: str | None = None) -> str:
    """The catalogue date: ``text``, else ``EOPF_SAMPLE_DATE``, default the tutorial's."""
    text = _setting(DATE_VAR, text, TUTORIAL_DATE)
    if text not in SUPPORTED_DATES:
        raise SettingError(
            f"{DATE_VAR} must be one of {', '.join(SUPPORTED_DATES)} (ISO dates), got '{text}'."
        )
    return text


def date_prefix(date: str) -> str:
    """The URL path below which the service answers as the catalogue of ``date``."""
    return f"/{date}"


def idle_seconds() -> float:
    """Seconds without a request after which a background service exits (positive)."""
    try:
        value = float(_setting(IDLE_VAR, None, DEFAULT_IDLE_SECONDS))
    except ValueError:
        return DEFAULT_IDLE_SECONDS
    return value if value > 0 else DEFAULT_IDLE_SECONDS


def repo_root() -> Path:
    """The project directory (``helpers/sample_service`` lies two levels below it)."""
    return Path(__file__).resolve().parents[2]


def cache_dir(kind: str) -> Path:
    """The folder of one kind of cached file (``chunks``, ``safe`` or ``logs``), created.

    ``<repo>/.cache/sample-service/<kind>`` (logs at its top); with ``$EOPF_SAMPLE_CACHE`` set,
    chunks there and the others beside it. A temporary folder stands in for an unwritable one.
    """
    chunks = _setting(CACHE_VAR, None, "")
    wanted = repo_root() / ".cache" / "sample-service" / ("" if kind == "logs" else kind)
    if chunks and kind != "logs":
        wanted = Path(chunks).expanduser()
        wanted = wanted if kind == "chunks" else wanted.parent / kind
    for candidate in (wanted, Path(tempfile.gettempdir()) / "eopf-sample-service" / kind):
        with contextlib.suppress(OSError):
            candidate.mkdir(parents=True, exist_ok=True)
            tempfile.NamedTemporaryFile(dir=candidate, prefix=".probe-").close()  # writable?
            return candidate
    raise SettingError(f"No writable folder for the sample service's {kind}: tried {wanted}.")
