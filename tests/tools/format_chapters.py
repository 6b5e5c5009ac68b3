"""Format the code cells of the book's chapters with ruff, in place, and nothing else.

Why this tool exists: `jupytext --pipe` would format the code too, but it writes the whole
notebook back with its own YAML for every cell's metadata, turning the chapters' readable
`caption: |` blocks into quoted, re-wrapped strings. Here only the source of each code cell is
replaced by what `ruff format` makes of it; headers, tags, metadata and prose stay as written.
A cell ruff cannot parse is left alone and named.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

LINE_LENGTH = "88"
CELL = re.compile(
    r"^(?P<open>```\{code-cell\}[^\n]*\n)"
    r"(?P<header>:tags:[^\n]*\n\n?|---\n.*?\n---\n)?"
    r"(?P<code>.*?)"
    r"(?P<close>^```[ \t]*$)",
    re.S | re.M,
)


def format_code(code: str, ruff: str) -> str | None:
    """``code`` formatted by ruff, or None when ruff cannot parse it."""
    result = subprocess.run(
        [ruff, "format", "--line-length", LINE_LENGTH, "--stdin-filename", "cell.py", "-"],
        input=code,
        capture_output=True,
        text=True,
    )
    return result.stdout if result.returncode == 0 else None


def format_chapter(path: Path, ruff: str) -> bool:
    """Format every code cell of ``path``; True when the file changed."""
    text = path.read_text(encoding="utf-8")

    def replace(match: re.Match[str]) -> str:
        code = match.group("code")
        formatted = format_code(code, ruff) if code.strip() else code
        if formatted is None:
            print(f"{path}: a cell ruff cannot parse was left as it is", file=sys.stderr)
            formatted = code
        return (
            match.group("open") + (match.group("header") or "") + formatted + match.group("close")
        )

    new = CELL.sub(replace, text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str]) -> int:
    ruff, *paths = argv
    changed = [path for path in paths if format_chapter(Path(path), ruff)]
    print(f"{len(changed)} of {len(paths)} chapters reformatted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
