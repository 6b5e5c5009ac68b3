"""Fixtures of the browser test: the built site on loopback, Chromium, and one report per page.

Chromium is Debian's (`tests/browser/ensure_chromium.sh` installs it): Playwright's
own browser download needs the internet. Every page is opened once and its report
cached, so the separate checks of a page (errors, images, links, ...) cost one load.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.browser.book_site import REPO_ROOT, TocPage, html_dir, screenshot_dir, serve_directory
from tests.browser.page_report import PageReport, inspect_page

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Folders whose files Sphinx copies into `_static/`: the book's own static files.
OWN_STATIC_DIRS = (REPO_ROOT / "_static", REPO_ROOT / "book" / "_static")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect the browser test only when asked for by path (`pytest tests/browser`).

    It needs a built book and Chromium, so `make unit` (`pytest tests`) must not pick
    it up; `make browser-test` names this folder after `make book`.
    """
    here = Path(__file__).resolve().parent
    start = config.invocation_params.dir
    asked = [(start / arg.split("::")[0]).resolve() for arg in config.args]
    if collection_path.resolve().is_relative_to(here) and not any(
        path.is_relative_to(here) for path in asked
    ):
        return True
    return None


def chromium_executable() -> str:
    """The system Chromium: CHROMIUM_PATH, Debian's /usr/bin/chromium, or one on PATH."""
    candidates = [os.environ.get("CHROMIUM_PATH", ""), "/usr/bin/chromium"]
    candidates += [shutil.which(name) or "" for name in ("chromium", "chromium-browser")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "Chromium not found: run tests/browser/ensure_chromium.sh (or set CHROMIUM_PATH)",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """The built HTML book; the test is meaningless without it, so its absence fails."""
    directory = html_dir()
    if not (directory / "index.html").is_file():
        pytest.fail(f"no built book at {directory}: run `make book` first", pytrace=False)
    return directory


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    with serve_directory(site_dir) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_executable()
    with sync_playwright() as playwright:
        # Playwright gives the browser a fresh temporary profile (--user-data-dir)
        # and removes it on close; passing our own is refused by launch().
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="session")
def own_static_urls(site_url: str) -> tuple[str, ...]:
    """URLs of the static files the book itself ships (its scripts count as own code)."""
    urls = []
    for folder in OWN_STATIC_DIRS:
        if folder.is_dir():
            urls += [
                f"{site_url}/_static/{path.relative_to(folder).as_posix()}"
                for path in folder.rglob("*")
                if path.is_file()
            ]
    return tuple(urls)


@pytest.fixture(scope="session")
def page_report(
    site_dir: Path,
    site_url: str,
    browser_context: BrowserContext,
    own_static_urls: tuple[str, ...],
) -> Iterator[Callable[[TocPage], PageReport]]:
    """A function giving the (cached) report of a page; the screenshot is saved on first load.

    At the end a `summary.json` beside the screenshots lists, per page, what the
    test tolerates but a human may want to see: the theme's console errors and the
    off-site requests that were blocked.
    """
    cache: dict[str, PageReport] = {}
    shots = screenshot_dir(site_dir)

    def report(page: TocPage) -> PageReport:
        if page.docname not in cache:
            if not (site_dir / page.html_path).is_file():
                pytest.fail(f"{page.html_path} was not built: run `make book`", pytrace=False)
            cache[page.docname] = inspect_page(
                browser_context,
                f"{site_url}/{page.html_path}",
                shots / f"{page.docname}.png",
            )
        return cache[page.docname]

    yield report
    if cache:
        summary = {
            docname: {
                "screenshot": str(page.screenshot),
                "theme_console_errors": page.others_console_errors(own_static_urls),
                "blocked_off_site_requests": sorted(set(page.blocked_external)),
            }
            for docname, page in cache.items()
        }
        shots.mkdir(parents=True, exist_ok=True)
        (shots / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
