"""The page checks must fail on a broken page, not only pass on good ones.

A tiny hand-written site (laid out as Sphinx and myst-nb lay out pages) carries one
of each defect the browser test looks for, next to things that must not be flagged
(a deliberate one-line error, the theme's own console noise). It needs Chromium but
not the built book, and runs in a second or two.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from playwright.sync_api import BrowserContext

from tests.browser.book_site import serve_directory
from tests.browser.page_report import PageReport, inspect_page

# A 1 x 1 pixel PNG, so the fixture site needs no image library.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)

# A code line far wider than any column.
LONG_LINE = "x = " + "1 + " * 60 + "1"

BROKEN_PAGE = """<!DOCTYPE html>
<html><head><title>Broken</title>
<script>const duplicated = 1;</script>
<script>const duplicated = 2;</script>
<script src="../_static/theme.js"></script>
<script src="../_static/own.js"></script>
<link rel="stylesheet" href="https://cdn.example.org/theme.css">
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
<div class="cell"><div class="cell_input"><pre style="overflow:auto">LONG_LINE</pre></div></div>
<div class="cell"><div class="cell_input"><pre>short = "fits"</pre></div></div>
<img src="../_images/tiny-text.png" alt="A figure with tiny text" style="width:100px">
<img src="../_images/large-text.png" alt="A figure with large text">
<img src="../_images/unrecorded.png" alt="A figure of unknown text size">
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


def _png_with_font(width: int, smallest_font_px: str) -> bytes:
    """A blank PNG recording its smallest font as `helpers.figures` does."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Smallest-Font-Px", smallest_font_px)
    buffer = io.BytesIO()
    Image.new("RGB", (width, 50), "white").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("broken-site")
    (root / "book").mkdir()
    (root / "_static").mkdir()
    (root / "_images").mkdir()
    page = BROKEN_PAGE.replace("LONG_LINE", LONG_LINE)
    (root / "book" / "broken.html").write_text(page, encoding="utf-8")
    (root / "book" / "other.html").write_text(OTHER_PAGE, encoding="utf-8")
    (root / "_images" / "pixel.png").write_bytes(PIXEL_PNG)
    (root / "_images" / "unrecorded.png").write_bytes(PIXEL_PNG)
    # 400 px wide, smallest font 20 px: at 100 px on screen that is 5 px; at full size 20 px.
    (root / "_images" / "tiny-text.png").write_bytes(_png_with_font(400, "20.00"))
    (root / "_images" / "large-text.png").write_bytes(_png_with_font(400, "20.00"))
    (root / "_static" / "theme.js").write_text('console.error("theme noise");\n')
    (root / "_static" / "own.js").write_text('throw new Error("own script failed");\n')
    return root


@pytest.fixture(scope="module")
def broken_site(site_root: Path) -> Iterator[str]:
    with serve_directory(site_root) as url:
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


def test_cut_off_lines_are_caught(report: PageReport) -> None:
    problems = report.clipped_lines()
    assert len(problems) == 1, problems
    assert problems[0].startswith("code line") and "x = 1 + 1" in problems[0]


def test_illegible_figure_text_is_caught(report: PageReport, site_root: Path) -> None:
    assert report.figure_text_problems(site_root) == [
        "pixel.png: no recorded font size (not drawn with helpers.figures)",
        "pixel.png: no recorded font size (not drawn with helpers.figures)",
        "pixel.png: no recorded font size (not drawn with helpers.figures)",
        "tiny-text.png: smallest text 5.0 px on screen (< 9 px)",
        "unrecorded.png: no recorded font size (not drawn with helpers.figures)",
    ]


def test_off_site_requests_are_blocked_and_pages_screenshotted(report: PageReport) -> None:
    # The off-site stylesheet is requested (and blocked); the off-site link is not followed.
    assert report.off_site_requests() == ["https://cdn.example.org/theme.css"]
    assert report.probe["launchLinks"] == ["https://binder.example/v2/gh/o/r/main"]
    assert report.screenshot is not None and report.screenshot.stat().st_size > 0
