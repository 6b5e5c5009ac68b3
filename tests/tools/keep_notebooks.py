"""Remove converted pages that are not notebooks, so nbmake runs only real chapters.

Why: jupytext converts every `book/*.md`, but plain MyST pages (the landing page,
the data-sources page) have no kernelspec and no code; nbmake would fail on them.
A page is a notebook when its front matter names a kernel.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: str) -> int:
    kept = 0
    for path in sorted(Path(folder).glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if "kernelspec" in notebook.get("metadata", {}):
            kept += 1
        else:
            path.unlink()
    if kept == 0:
        print(f"no notebooks found in {folder}", file=sys.stderr)
        return 1
    print(f"{kept} notebooks to execute")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
