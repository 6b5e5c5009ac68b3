"""Shared fixtures: the sample service running inside the test process.

Why in-process: a test must not depend on (or disturb) a sample service some
notebook left running on port 8765, and must not leave one behind. The
service runs in a daemon thread on a free loopback port for the whole session.

Hypothesis keeps its files (example database, constants) under the project's
cache (``.cache/hypothesis``, removed by ``make clean``) rather than in a
``.hypothesis`` folder at the root: tests write only to the cache and to
temporary directories.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from helpers.sample_service.launcher import ThreadedServer

set_hypothesis_home_dir(Path(__file__).resolve().parents[1] / ".cache" / "hypothesis")


@pytest.fixture(scope="session")
def sample_service_url() -> Iterator[str]:
    """Root URL (with trailing slash) of a sample service private to this test session."""
    with ThreadedServer() as server:
        yield server.url
