"""What the browser test needs to know about the book: its pages, its settings, a local server.

Why this module exists: the test must cover every page without being edited when a
chapter lands, so the page list comes from `_toc.yml` (the same file Jupyter Book
builds from), and what a launch button should point at comes from `_config.yml`.
The built site is served over HTTP on loopback because a browser treats `file://`
pages differently (fetch, module scripts), and readers meet the book over HTTP.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import jupytext
import yaml
from sphinx_external_toc.parsing import parse_toc_yaml

# The repository whose book is tested; BOOK_ROOT lets the test run on another checkout.
REPO_ROOT = Path(os.environ.get("BOOK_ROOT", Path(__file__).resolve().parents[2])).resolve()

# Source suffixes Jupyter Book accepts for a page, in the order it prefers them.
SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")

# Pages Sphinx and Jupyter Book generate at the site root (index.html redirects to the
# root page when that is not `index`), and folders of assets rather than pages.
SPHINX_GENERATED_PAGES = frozenset(
    {"genindex.html", "search.html", "py-modindex.html", "index.html"}
)
INTERNAL_DIRS = frozenset({"_static", "_sources", "_images", "_downloads"})


def html_dir() -> Path:
    """The built site: `BOOK_HTML_DIR` when set (to test another build), else `_build/html`."""
    return Path(os.environ.get("BOOK_HTML_DIR", REPO_ROOT / "_build" / "html")).resolve()


def screenshot_dir(site_dir: Path) -> Path:
    """Screenshots go beside the site (`_build/screenshots/`), never inside what is published."""
    return site_dir.parent / "screenshots"


@dataclass(frozen=True)
class TocPage:
    """One page of the table of contents and the source file it is built from."""

    docname: str
    source: Path

    @property
    def html_path(self) -> str:
        """Path of the page relative to the site root."""
        return f"{self.docname}.html"

    @property
    def is_notebook(self) -> bool:
        """A page gets launch buttons when it is a notebook, i.e. names a kernel (as for nbmake)."""
        notebook = jupytext.read(self.source)
        return "kernelspec" in notebook.metadata


def toc_pages(repo_root: Path = REPO_ROOT) -> list[TocPage]:
    """Every page listed in `_toc.yml`, root first, with its source file in the repository."""
    site_map = parse_toc_yaml(repo_root / "_toc.yml")
    pages = []
    for docname in site_map:
        source = next(
            (
                repo_root / f"{docname}{suffix}"
                for suffix in SOURCE_SUFFIXES
                if (repo_root / f"{docname}{suffix}").is_file()
            ),
            repo_root / f"{docname}.md",
        )
        pages.append(TocPage(docname=docname, source=source))
    return pages


def root_docname(repo_root: Path = REPO_ROOT) -> str:
    """The landing page of the book (the `root:` of `_toc.yml`)."""
    return parse_toc_yaml(repo_root / "_toc.yml").root.docname


def content_pages_on_disk(site_dir: Path) -> set[str]:
    """Docnames of every content page in the build (Sphinx's generated pages left out).

    Pages in hidden folders count: a stray `.pytest_cache/README.md` built into the
    site is exactly the kind of page this is meant to catch.
    """
    found = set()
    for path in site_dir.rglob("*.html"):
        relative = path.relative_to(site_dir)
        if relative.parts[0] in INTERNAL_DIRS:
            continue
        if len(relative.parts) == 1 and relative.name in SPHINX_GENERATED_PAGES:
            continue
        found.add(relative.with_suffix("").as_posix())
    return found


@dataclass(frozen=True)
class LaunchSettings:
    """Where the book says its source lives and how Binder should open it (`_config.yml`)."""

    owner: str
    repo: str
    branch: str
    path_to_book: str
    binderhub_url: str
    notebook_interface: str

    @classmethod
    def from_config(cls, repo_root: Path = REPO_ROOT) -> LaunchSettings:
        config = yaml.safe_load((repo_root / "_config.yml").read_text(encoding="utf-8"))
        repository = config.get("repository") or {}
        launch = config.get("launch_buttons") or {}
        parts = urlsplit(repository.get("url", "")).path.strip("/").split("/")
        owner, repo = [*parts, "", ""][:2]
        return cls(
            owner=owner,
            repo=repo.removesuffix(".git"),
            branch=str(repository.get("branch", "")),
            path_to_book=str(repository.get("path_to_book", "") or "").strip("/"),
            binderhub_url=str(launch.get("binderhub_url", "")).rstrip("/"),
            notebook_interface=str(launch.get("notebook_interface", "classic")),
        )

    def repo_path(self, docname: str, suffix: str) -> str:
        """Path of a page's source relative to the repository root."""
        prefix = f"{self.path_to_book}/" if self.path_to_book else ""
        return f"{prefix}{docname}{suffix}"


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files, without a log line per request cluttering the test output."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve `directory` on a free loopback port for the duration; yields the base URL.

    The standard library's threaded server is enough for one browser fetching
    static files; port 0 lets the OS pick a free port so parallel runs never clash.
    """
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="book-site", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
