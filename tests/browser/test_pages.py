"""Every page of the built book, opened in headless Chromium as a reader would open it.

Run after `make book` (`make browser-test`). The pages come from `_toc.yml`, so a new
chapter is covered as soon as it is listed there. For each page: no cell error or
traceback in the output, every image loaded and described, every internal link and
anchor resolves, no console error from the book's own code, and the Binder launch
button opens this repository, branch and file. A screenshot of each page is saved
under `_build/screenshots/` for a human to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.book_site import (
    REPO_ROOT,
    LaunchSettings,
    TocPage,
    content_pages_on_disk,
    root_docname,
    toc_pages,
)
from tests.browser.page_report import PageReport

PAGES = toc_pages()
LAUNCH = LaunchSettings.from_config()
INTERFACE_PREFIX = {"jupyterlab": "lab/tree", "classic": "tree"}

ReportOf = Callable[[TocPage], PageReport]
by_page = pytest.mark.parametrize("page", PAGES, ids=[page.docname for page in PAGES])


def _listing(problems: list[str]) -> str:
    return "\n  " + "\n  ".join(problems)


@by_page
def test_page_loads(page: TocPage, page_report: ReportOf) -> None:
    report = page_report(page)
    assert report.status == 200, f"{page.html_path} answered HTTP {report.status}"
    assert report.screenshot is not None and report.screenshot.stat().st_size > 0


@by_page
def test_no_cell_errors(page: TocPage, page_report: ReportOf) -> None:
    problems = page_report(page).cell_errors()
    assert not problems, f"{page.html_path}:{_listing(problems)}"


@by_page
def test_images_load_and_have_alt_text(page: TocPage, page_report: ReportOf) -> None:
    problems = page_report(page).image_problems()
    assert not problems, f"{page.html_path}:{_listing(problems)}"


@by_page
def test_no_line_is_cut_off(page: TocPage, page_report: ReportOf) -> None:
    """Every code and output line fits the content column of a 1280 px window."""
    problems = page_report(page).clipped_lines()
    assert not problems, f"{page.html_path}:{_listing(problems)}"


@by_page
def test_no_external_requests(page: TocPage, page_report: ReportOf) -> None:
    """The page works offline: MathJax, fonts and scripts all come from the built site."""
    problems = page_report(page).off_site_requests()
    assert not problems, f"{page.html_path} asked for off-site resources:{_listing(problems)}"


@by_page
def test_figure_text_is_legible(page: TocPage, page_report: ReportOf, site_dir: Path) -> None:
    problems = page_report(page).figure_text_problems(site_dir)
    assert not problems, f"{page.html_path}:{_listing(problems)}"


@by_page
def test_internal_links_resolve(page: TocPage, page_report: ReportOf) -> None:
    report = page_report(page)
    assert report.probe["links"], "no internal links at all: the probe did not see the page"
    problems = report.broken_links()
    assert not problems, f"{page.html_path}:{_listing(problems)}"


@by_page
def test_no_console_errors_from_book_code(
    page: TocPage, page_report: ReportOf, own_static_urls: tuple[str, ...]
) -> None:
    report = page_report(page)
    problems = report.own_console_errors(own_static_urls)
    assert not problems, f"{page.html_path}:{_listing(problems)}"


@by_page
def test_launch_button_opens_this_file(page: TocPage, page_report: ReportOf) -> None:
    """Notebook pages launch on Binder in JupyterLab at their own source file; others do not."""
    links = page_report(page).probe["launchLinks"]
    if not page.is_notebook:
        assert links == [], f"{page.html_path} is not a notebook but offers {links}"
        return
    binder = [link for link in links if link.startswith(LAUNCH.binderhub_url + "/")]
    assert len(binder) == 1, f"{page.html_path}: expected one Binder link, found {links}"
    url = urlsplit(binder[0])
    expected_path = f"/v2/gh/{LAUNCH.owner}/{LAUNCH.repo}/{LAUNCH.branch}"
    assert url.path == expected_path, f"Binder link {binder[0]} is not {expected_path}"
    (urlpath,) = parse_qs(url.query)["urlpath"]
    prefix = INTERFACE_PREFIX[LAUNCH.notebook_interface] + "/"
    assert urlpath.startswith(prefix), f"{urlpath} does not open in {LAUNCH.notebook_interface}"
    file_in_repo = urlpath.removeprefix(prefix)
    assert file_in_repo == LAUNCH.repo_path(page.docname, page.source.suffix)
    assert (REPO_ROOT / file_in_repo).is_file(), f"Binder would open missing {file_in_repo}"


@by_page
def test_edit_button_names_the_source_file(page: TocPage, page_report: ReportOf) -> None:
    links = page_report(page).probe["editLinks"]
    expected = (
        f"https://github.com/{LAUNCH.owner}/{LAUNCH.repo}/edit/{LAUNCH.branch}/"
        f"{LAUNCH.repo_path(page.docname, page.source.suffix)}"
    )
    assert links == [expected]


def test_every_built_page_is_in_the_toc(site_dir: Path) -> None:
    """Nothing outside `_toc.yml` gets published (e.g. a stray README from a cache folder)."""
    stray = content_pages_on_disk(site_dir) - {page.docname for page in PAGES}
    assert not stray, f"built but not in _toc.yml (stale? run make clean): {sorted(stray)}"


def test_site_root_leads_to_the_landing_page(
    site_url: str, browser_context: BrowserContext
) -> None:
    tab = browser_context.new_page()
    try:
        tab.goto(f"{site_url}/", wait_until="load")
        tab.wait_for_url(f"{site_url}/{root_docname()}.html", timeout=10_000)
    finally:
        tab.close()
