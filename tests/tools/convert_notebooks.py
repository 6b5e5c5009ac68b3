"""Convert the book's MyST notebooks to `.ipynb` for nbmake, leaving plain pages out.

Why: nbmake collects only `.ipynb` files and skips any path containing `_build`, so the
chapters (MyST markdown, jupytext) are converted into the project's cache. Plain MyST pages
(the landing page, the data-sources page) have no kernelspec and nothing to execute.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext


def main(source: str, target: str) -> int:
    out = Path(target)
    out.mkdir(parents=True, exist_ok=True)
    converted = 0
    for page in sorted(Path(source).glob("*.md")):
        notebook = jupytext.read(page)
        if "kernelspec" not in notebook.metadata:
            continue
        jupytext.write(notebook, out / f"{page.stem}.ipynb")
        converted += 1
    if converted == 0:
        print(f"no notebooks found in {source}", file=sys.stderr)
        return 1
    print(f"{converted} notebooks to execute in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
