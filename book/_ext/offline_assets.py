"""Serve MathJax from the built site, so equations render offline and nothing loads from a CDN.

Why this extension exists: Jupyter Book points Sphinx at MathJax on a CDN, so a reader offline
(or behind a firewall) sees the chapters' equations as raw TeX. The pinned Python package
`jupyter-server-mathjax` (the Jupyter project's own copy of MathJax 2.7) carries the whole
library; this extension copies it into the site's `_static/mathjax/` and points Sphinx there.
The browser test checks that no page requests anything off the site.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jupyter_server_mathjax
from sphinx.application import Sphinx

MATHJAX_DIR = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
# The one combined configuration the package ships: TeX (with AMS) and MathML input.
MATHJAX_PATH = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"


# The package ships MathJax's STIX-Web fonts but not its TeX fonts: left to its defaults,
# MathJax 2 asks for fonts/TeX/fontdata.js, which is not there (a 404 the browser test sees).
MATHJAX_FONTS = {
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web"},
    "SVG": {"font": "STIX-Web"},
}


def _use_local_mathjax(app: Sphinx, config: object) -> None:
    app.config.mathjax_path = MATHJAX_PATH
    app.config.mathjax2_config = {**(app.config.mathjax2_config or {}), **MATHJAX_FONTS}


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target / "MathJax.js").is_file():
        shutil.copytree(MATHJAX_DIR, target, dirs_exist_ok=True)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _use_local_mathjax, priority=900)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
