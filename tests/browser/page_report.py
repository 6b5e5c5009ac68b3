"""Open one page of the built book in Chromium and report what a reader would meet.

Why this module exists: the checks (cell errors, images, links, console errors) are
the same for every page, and they must be shown to fail on a broken page
(`test_probe_catches_defects.py` feeds them a deliberately broken site). So they
live here as plain functions over a `PageReport`, apart from the test that walks
the book. Observation happens in the browser (`probe.js`); judgement happens here.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Request, Response, Route

PROBE_JS = (Path(__file__).with_name("probe.js")).read_text(encoding="utf-8")
TRACEBACK_MARK = "Traceback (most recent call last)"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
PAGE_TIMEOUT_MS = 60_000
# The smallest text a reader can read comfortably on screen, in CSS pixels.
MIN_TEXT_PX = 9.0
# PNG text chunk in which `helpers.figures` records the figure's smallest font, in image pixels.
SMALLEST_FONT_KEY = "Smallest-Font-Px"


@dataclass(frozen=True)
class ConsoleEntry:
    """An error the page logged (console.error) or threw (uncaught), with where it came from.

    `frames` are (script URL, 0-based line) pairs: the logging location or the
    exception's location followed by its stack, as Chromium reports them.
    """

    text: str
    frames: tuple[tuple[str, int], ...] = ()

    def __str__(self) -> str:
        first = self.text.splitlines()[0] if self.text else "(empty)"
        where = f" ({self.frames[0][0]}:{self.frames[0][1] + 1})" if self.frames else ""
        return f"{first}{where}"


@dataclass
class PageReport:
    """Everything observed on one page; the methods turn it into a list of defects."""

    url: str
    status: int
    probe: dict[str, Any]
    console_errors: list[ConsoleEntry] = field(default_factory=list)
    failed_local_requests: list[str] = field(default_factory=list)
    blocked_external: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    content_lines: tuple[int, int] = (0, -1)

    def cell_errors(self) -> list[str]:
        """Error and traceback outputs of cells.

        A cell tagged `raises-exception` may show an error on purpose, but only as
        the one-line message the project's exceptions give (never a traceback).
        """
        problems = []
        for output in self.probe["outputs"]:
            text = output["text"].strip()
            lines = [line for line in text.splitlines() if line.strip()]
            kinds = set(output["classes"])
            if kinds & {"traceback", "error"}:
                deliberate = "raises-exception" in output["tags"]
                if deliberate and TRACEBACK_MARK not in text and len(lines) == 1:
                    continue
                problems.append(f"error output: {_first_lines(text)}")
            elif TRACEBACK_MARK in text:
                problems.append(
                    f"traceback in {'stderr' if 'stderr' in kinds else 'output'}: "
                    f"{_first_lines(text)}"
                )
        return problems

    def image_problems(self) -> list[str]:
        """Images that did not load, or whose alt text is missing or only a file name."""
        problems = []
        for image in self.probe["images"]:
            src = image["src"]
            alt = (image["alt"] or "").strip()
            if image["naturalWidth"] <= 0:
                problems.append(f"image did not load: {src}")
            if not alt:
                problems.append(f"image without alt text: {src}")
            elif _is_file_name(alt, src):
                problems.append(f"alt text is only the file name: {src}")
        return problems

    def clipped_lines(self) -> list[str]:
        """Code and output blocks with lines that do not fit the content column."""
        return [
            f"{block['kind']} line {block['overflowPx']} px too wide: {block['line']!r}"
            for block in self.probe["clipped"]
        ]

    def off_site_requests(self) -> list[str]:
        """Everything the page asked for off this site (a CDN, a font service, ...)."""
        return sorted(set(self.blocked_external))

    def figure_text_problems(self, site_root: Path) -> list[str]:
        """Figures of the book whose smallest text is drawn under `MIN_TEXT_PX` on screen.

        The figure's smallest font in image pixels is recorded in the PNG by
        `helpers.figures`; the page draws the image at ``renderedWidth`` CSS pixels for
        ``naturalWidth`` image pixels. A figure without the record was not made with the
        book's style, so its text size is unknown: that is reported too.
        """
        from PIL import Image

        problems = []
        for image in self.probe["images"]:
            path = urlsplit(image["url"]).path
            if "/_images/" not in path or not path.endswith(".png"):
                continue
            file = site_root / path.split("/_images/", 1)[0].lstrip("/") / "_images"
            file = file / path.split("/_images/", 1)[1]
            if not file.is_file() or image["naturalWidth"] <= 0 or image["renderedWidth"] <= 0:
                continue
            with Image.open(file) as png:
                recorded = png.text.get(SMALLEST_FONT_KEY) if hasattr(png, "text") else None
            name = posixpath.basename(path)
            if recorded is None:
                problems.append(f"{name}: no recorded font size (not drawn with helpers.figures)")
                continue
            on_screen = float(recorded) * image["renderedWidth"] / image["naturalWidth"]
            if on_screen < MIN_TEXT_PX:
                problems.append(
                    f"{name}: smallest text {on_screen:.1f} px on screen (< {MIN_TEXT_PX:g} px)"
                )
        return problems

    def broken_links(self) -> list[str]:
        """Internal links whose target does not answer 200 or lacks the anchor linked to."""
        problems = []
        for link in self.probe["links"]:
            if link["status"] != 200:
                problems.append(f"HTTP {link['status']}: {link['href']} ({link['text']!r})")
            problems.extend(
                f"missing anchor #{anchor} in {link['href']}" for anchor in link["missingAnchors"]
            )
        problems.extend(f"resource failed: {entry}" for entry in self.failed_local_requests)
        return problems

    def own_console_errors(self, own_urls: tuple[str, ...]) -> list[str]:
        """Console errors raised by the book's own code.

        Own code is a static file the book ships (`own_urls`) or a script inside the
        page's article (notebook outputs, raw HTML in a chapter): a frame on this
        page within `content_lines`. The theme's and extensions' scripts (their
        files and their inline snippets in the page head) are not the book's code;
        `others_console_errors` lists what they logged.
        """
        return [str(entry) for entry in self.console_errors if self._is_own(entry, own_urls)]

    def others_console_errors(self, own_urls: tuple[str, ...]) -> list[str]:
        """Console errors from the theme and extensions, or from blocked off-site resources."""
        return [str(entry) for entry in self.console_errors if not self._is_own(entry, own_urls)]

    def _is_own(self, entry: ConsoleEntry, own_urls: tuple[str, ...]) -> bool:
        page = self.url.split("#")[0]
        first, last = self.content_lines
        for url, line in entry.frames:
            if url.startswith(own_urls) or (url == page and first <= line <= last):
                return True
        return False


def inspect_page(context: BrowserContext, url: str, screenshot: Path | None) -> PageReport:
    """Load `url` in a fresh tab, run the probe, save a full-page screenshot; return the report.

    Requests that leave loopback are blocked (the book must not depend on them, and
    the test must send nothing off the machine); they are recorded, not judged.
    Uncaught exceptions are taken from Chromium's DevTools protocol rather than
    Playwright's `pageerror`, because only the former says which script threw.
    """
    page = context.new_page()
    console: list[ConsoleEntry] = []
    failed: list[str] = []
    blocked: list[str] = []

    def route(route: Route) -> None:
        if _is_local(route.request.url) or not route.request.url.startswith("http"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location
            frame = (str(where.get("url", "")), int(where.get("lineNumber", -1)))
            console.append(ConsoleEntry(message.text, (frame,)))

    def on_exception(event: dict[str, Any]) -> None:
        details = event["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text", "")
        frames = [(details.get("url", ""), details.get("lineNumber", -1))]
        for frame in details.get("stackTrace", {}).get("callFrames", []):
            frames.append((frame.get("url", ""), frame.get("lineNumber", -1)))
        console.append(ConsoleEntry(text, tuple(frames)))

    def on_failed(request: Request) -> None:
        if _is_local(request.url):
            failed.append(f"{request.failure} {request.url}")

    def on_response(response: Response) -> None:
        if _is_local(response.url) and response.status >= 400:
            failed.append(f"HTTP {response.status} {response.url}")

    devtools = context.new_cdp_session(page)
    devtools.on("Runtime.exceptionThrown", on_exception)
    devtools.send("Runtime.enable")
    page.route("**/*", route)
    page.on("console", on_console)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    try:
        response = page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        page.evaluate("document.fonts.ready.then(() => true)")
        # The probe fetches link targets itself; those answers are judged as links,
        # not as the page's own resources.
        page.remove_listener("response", on_response)
        page.remove_listener("requestfailed", on_failed)
        probe = page.evaluate(PROBE_JS)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=screenshot, full_page=True)
        source = response.text() if response is not None else ""
    finally:
        devtools.detach()
        page.close()
    return PageReport(
        url=url,
        status=response.status if response is not None else 0,
        probe=probe,
        console_errors=console,
        failed_local_requests=failed,
        blocked_external=blocked,
        screenshot=screenshot,
        content_lines=article_lines(source),
    )


def article_lines(html: str) -> tuple[int, int]:
    """0-based first and last line of the page's article (the chapter and its outputs).

    Sphinx themes put their own inline scripts in the head and around the article;
    what lies between `<article` and `</article>` comes from the book's sources.
    """
    lines = html.splitlines()
    start = next((i for i, line in enumerate(lines) if "<article" in line), None)
    if start is None:
        return (0, -1)
    end = next((i for i in range(len(lines) - 1, start - 1, -1) if "</article>" in lines[i]), start)
    return (start, end)


def _is_local(url: str) -> bool:
    return urlsplit(url).hostname in {"127.0.0.1", "localhost"}


def _is_file_name(alt: str, src: str) -> bool:
    """myst-nb uses the image path as alt text when a cell gives none: that is no description."""
    return alt in {src, posixpath.basename(src)} or alt.lower().endswith(IMAGE_SUFFIXES)


def _first_lines(text: str, count: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[:count])
