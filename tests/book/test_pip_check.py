"""`tests/tools/pip_check.py`: `make`'s pip check accepts the one known conflict and no other.

Why: the environment installs xarray-eopf with ``--no-deps`` against its ``zarr<3``
(requirements-no-deps.txt). The check must let exactly that line through, by name, and still
fail on any other conflict, or a real breakage would hide behind the accepted one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.tools.pip_check import CLEAN, unexpected

ROOT = Path(__file__).resolve().parents[2]
KNOWN = re.search(
    r"^KNOWN_CONFLICT := (.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE
)
assert KNOWN is not None, "the Makefile names no KNOWN_CONFLICT"
ALLOWED = KNOWN.group(1).strip()
EOPF_LINE = f"{ALLOWED}, but you have zarr 3.1.6."
OTHER_LINE = "pystac-client 0.9.1 has requirement pystac>=1.16, but you have pystac 1.15.2."


def test_the_known_conflict_alone_passes() -> None:
    assert unexpected(EOPF_LINE + "\n", [ALLOWED]) == []
    assert unexpected(CLEAN + "\n", [ALLOWED]) == []


def test_any_other_conflict_is_reported_even_next_to_the_known_one() -> None:
    assert unexpected(f"{EOPF_LINE}\n{OTHER_LINE}\n", [ALLOWED]) == [OTHER_LINE]
    missing = "xarray-eopf 0.3.1 requires xcube-resampling, which is not installed."
    assert unexpected(missing, [ALLOWED]) == [missing]
    assert unexpected(EOPF_LINE, []) == [EOPF_LINE]


def test_the_installed_environment_has_exactly_the_known_conflict() -> None:
    """pip itself sees xarray-eopf's zarr<3 (so the no-deps install is what it claims) and
    nothing else; the tool accepts it."""
    report = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    ).stdout
    assert [line for line in report.splitlines() if line.strip()] == [
        f"{ALLOWED}, but you have zarr {_zarr_version()}."
    ]
    tool = subprocess.run(
        [sys.executable, str(ROOT / "tests/tools/pip_check.py"), "--allow", ALLOWED],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tool.returncode == 0, tool.stdout
    assert "known and accepted" in tool.stdout


def _zarr_version() -> str:
    import zarr

    return zarr.__version__
