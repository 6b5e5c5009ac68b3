"""`polling.wait_until`: the one "until it answers" loop of the launcher and FolderServer."""

from __future__ import annotations

import time

from helpers.sample_service.polling import wait_until


def test_the_first_answer_ends_the_wait() -> None:
    answers = iter([None, None, "up", "never asked"])
    assert wait_until(lambda: next(answers), timeout=5, interval=0.01) == "up"
    assert next(answers) == "never asked"


def test_no_answer_within_the_timeout_is_none() -> None:
    asked: list[float] = []
    began = time.monotonic()
    assert wait_until(lambda: asked.append(time.monotonic()), timeout=0.2, interval=0.05) is None
    assert time.monotonic() - began >= 0.2  # it does not give up before the deadline
    assert len(asked) >= 2 and asked[-1] - began >= 0.2  # and asks once more after it
