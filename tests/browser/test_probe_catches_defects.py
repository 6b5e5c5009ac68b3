"""The page checks must fail on a broken page, not only pass on good ones.

A tiny hand-written site (laid out as Sphinx and myst-nb lay out pages) carries one
of each defect the browser test looks for, next to things that must not be flagged
(a deliberate one-line error, the theme's own console noise). It needs Chromium but
not the built book, and runs in a second or two.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.book_site import serve_directory
from tests.browser.page_report import PageReport, inspect_page

# A 1 x 1 pixel PNG, so the fixture site needs no image library.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)

BROKEN_PAGE = """<!DOCTYPE html>
<html><head><title>Broken</title>
<script>const duplicated = 1;</script>
<script>const duplicated = 2;</script>
<script src="../_static/theme.js"></script>
<script src="../_static/own.js"></script>
</head><body>
<div class="dropdown-launch-buttons"><a href="https://binder.example/v2/gh/o/r/main">B</a></div>
<article class="bd-article">
<h1 id="top">Broken chapter</h1>
<div class="cell"><div class="cell_output">
<div class="output traceback"><pre>ZeroDivisionError    Traceback (most recent call last)
Cell In[4], line 1
ZeroDivisionError: division by zero</pre></div></div></div>
<div class="cell tag_raises-exception"><div class="cell_output">
<div class="output traceback"><pre>UnknownItemError: no item X in S2 L2A</pre></div></div></div>
<div class="cell"><div class="cell_output">
<div class="output stderr"><pre>Traceback (most recent call last):
  File "x.py", line 1
KeyError: 'b08'</pre></div></div></div>
<div class="cell"><div class="cell_output">
<div class="output stderr"><pre>UserWarning: harmless</pre></div></div></div>
<img src="../_images/missing.png" alt="a picture that is not there">
<img src="../_images/pixel.png">
<img src="../_images/pixel.png" alt="../_images/pixel.png">
<img src="../_images/pixel.png" alt="A red pixel">
<a href="missing.html">gone</a>
<a href="other.html#absent">no such anchor</a>
<a href="other.html#present">fine</a>
<a href="#top">fine too</a>
<a href="https://example.org/">off-site, not followed</a>
<script>console.error("book code failed");</script>
</article>
</body></html>
"""

OTHER_PAGE = """<!DOCTYPE html>
<html><head><title>Other</title></head><body>
<article><h1 id="present">Other</h1><a href="broken.html">back</a></article></body></html>
"""


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("broken-site")
    (root / "book").mkdir()
    (root / "_static").mkdir()
    (root / "_images").mkdir()
    (root / "book" / "broken.html").write_text(BROKEN_PAGE, encoding="utf-8")
    (root / "book" / "other.html").write_text(OTHER_PAGE, encoding="utf-8")
    (root / "_images" / "pixel.png").write_bytes(PIXEL_PNG)
    (root / "_static" / "theme.js").write_text('console.error("theme noise");\n')
    (root / "_static" / "own.js").write_text('throw new Error("own script failed");\n')
    with serve_directory(root) as url:
        yield url


@pytest.fixture(scope="module")
def report(
    broken_site: str, browser_context: BrowserContext, tmp_path_factory: pytest.TempPathFactory
) -> PageReport:
    shot = tmp_path_factory.mktemp("shots") / "broken.png"
    return inspect_page(browser_context, f"{broken_site}/book/broken.html", shot)


def test_cell_errors_are_caught_but_a_deliberate_one_liner_is_allowed(report: PageReport) -> None:
    problems = report.cell_errors()
    assert len(problems) == 2, problems
    assert problems[0].startswith("error output: ZeroDivisionError")
    assert problems[1].startswith("traceback in stderr:")
    assert not any("UnknownItemError" in problem for problem in problems)


def test_image_defects_are_caught(report: PageReport) -> None:
    assert report.image_problems() == [
        "image did not load: ../_images/missing.png",
        "image without alt text: ../_images/pixel.png",
        "alt text is only the file name: ../_images/pixel.png",
    ]


def test_broken_links_and_anchors_are_caught(report: PageReport) -> None:
    problems = report.broken_links()
    assert "HTTP 404: missing.html ('gone')" in problems
    assert "missing anchor #absent in other.html#absent" in problems
    assert any(p.startswith("resource failed: HTTP 404") and "missing.png" in p for p in problems)
    assert len(problems) == 3, problems


def test_only_the_books_own_console_errors_count(report: PageReport, broken_site: str) -> None:
    own = report.own_console_errors((f"{broken_site}/_static/own.js",))
    assert [entry.split(" (")[0] for entry in own] == [
        "Error: own script failed",
        "book code failed",
    ]
    others = report.others_console_errors((f"{broken_site}/_static/own.js",))
    assert any("theme noise" in entry for entry in others)
    assert any("duplicated" in entry for entry in others)


def test_off_site_requests_are_blocked_and_pages_screenshotted(report: PageReport) -> None:
    assert report.blocked_external == []  # the off-site link is not followed, only listed
    assert report.probe["launchLinks"] == ["https://binder.example/v2/gh/o/r/main"]
    assert report.screenshot is not None and report.screenshot.stat().st_size > 0
