"""One polling loop for every "wait until it answers" (the launcher, `helpers.local_server`).

It imports nothing heavy, so a reader-facing helper can use it without loading the service.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

Outcome = TypeVar("Outcome")


def wait_until(
    check: Callable[[], Outcome | None], timeout: float, interval: float = 0.1
) -> Outcome | None:
    """The first answer of ``check()`` that is not None, asked every ``interval`` seconds.

    None when ``timeout`` seconds pass without one; ``check`` decides what is an answer.
    """
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if outcome is not None or time.monotonic() > deadline:
            return outcome
        time.sleep(interval)
