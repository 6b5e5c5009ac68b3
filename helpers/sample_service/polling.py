"""Waiting for something that is starting: one polling loop for every "until it answers".

Why this module exists: the launcher waits for the sample service to answer on its port, and
`helpers.local_server` waits for its folder server; both poll with a deadline. The loop lives
here, in a module that imports nothing heavy, so a reader-facing helper can use it without
loading the service's application.
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

    None when ``timeout`` seconds pass without one. ``check`` decides what is an answer (the
    service answered, another program holds the port, the process died), so the caller keeps
    its own errors.
    """
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if outcome is not None or time.monotonic() > deadline:
            return outcome
        time.sleep(interval)
