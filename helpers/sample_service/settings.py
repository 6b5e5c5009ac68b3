"""Every setting and shared fact of the sample service: environment variables, port, paths.

Each setting has one name, one default and one reader here (``book/data_sources.md`` lists
the variables).
"""

from __future__ import annotations

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


def port(text: str | None = None) -> int:
    """The service's port: ``text`` if given, else ``EOPF_SAMPLE_PORT``, default 8765."""
    text = (text if text is not None else os.environ.get(PORT_VAR, "")).strip()
    text = text or str(DEFAULT_PORT)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingError(f"{PORT_VAR} must be a port number from 1 to 65535, got '{text}'.")
    return int(text)


def sample_date(text: str | None = None) -> str:
    """The catalogue date: ``text``, else ``EOPF_SAMPLE_DATE``, default the tutorial's."""
    text = (text if text is not None else os.environ.get(DATE_VAR, "")).strip()
    text = text or TUTORIAL_DATE
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
    text = os.environ.get(IDLE_VAR, "")
    try:
        value = float(text) if text else DEFAULT_IDLE_SECONDS
    except ValueError:
        value = DEFAULT_IDLE_SECONDS
    return value if value > 0 else DEFAULT_IDLE_SECONDS


def repo_root() -> Path:
    """The project directory: the one holding pyproject.toml above this package."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return here.parents[2]


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError:
        return False
    return True


def cache_dir(kind: str) -> Path:
    """The folder of one kind of cached file (``chunks``, ``safe`` or ``logs``), created.

    ``<repo>/.cache/sample-service/<kind>`` (logs at its top); with ``$EOPF_SAMPLE_CACHE`` set,
    chunks there and the others beside it. A temporary folder stands in for an unwritable one.
    """
    configured = os.environ.get(CACHE_VAR, "").strip()
    service = repo_root() / ".cache" / "sample-service"
    if kind == "logs":
        wanted = service  # service-<port>.log at the top of the service's cache
    elif configured:
        chunks = Path(configured).expanduser()
        wanted = chunks if kind == "chunks" else chunks.parent / kind
    else:
        wanted = service / kind
    fallback = Path(tempfile.gettempdir()) / "eopf-sample-service" / kind
    for candidate in (wanted, fallback):
        if _writable(candidate):
            return candidate
    raise SettingError(f"No writable folder for the sample service's {kind}: tried {wanted}.")
