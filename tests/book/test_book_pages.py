"""Checks on the chapters' source that a reader would otherwise catch by eye.

- Numbers that look measured (bytes, requests, seconds, percentages) must not be typed into
  prose: they come from the page's own computation through myst-nb `glue`. A published figure
  may be quoted when its paragraph names where it was published.
- Every `{glue:...}` reference in prose is glued by a code cell of the same page.
- Every chapter has the cookbook's sections, and every glued figure has alt text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2] / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if "kernelspec:" in p.read_text(encoding="utf-8"))

CODE_CELL = re.compile(r"^```\{code-cell\}.*?^```\s*$", re.S | re.M)
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.S | re.M)
GLUE_REF = re.compile(r"\{glue(?::\w+)?\}`([^`]+?)`")
GLUE_FIGURE = re.compile(r"^```\{glue:figure\}\s+(\S+)(.*?)^```", re.S | re.M)
GLUE_CALL = re.compile(r"""glue\(\s*(?:f?["'])([^"']+)["']""")
MEASURED = re.compile(
    r"(?<![\w.])\d[\d,]*(?:\.\d+)?\s*(?:MB|kB|KB|GB|MiB|KiB|GiB|bytes|requests|ms|seconds|%)(?!\w)"
)
PUBLISHED = re.compile(r"published|the seed|original tutorial|source:", re.I)
REQUIRED_SECTIONS = ("## Overview", "## Prerequisites", "## Summary", "## What's next")


def _prose(text: str) -> str:
    """The page without front matter, code cells, fenced blocks, inline code and glue roles."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = CODE_CELL.sub("", text)
    text = FENCE.sub(lambda m: "" if "{code-cell}" in m.group(0) else _directive_body(m), text)
    text = GLUE_REF.sub("", text)
    return re.sub(r"`[^`\n]*`", "", text)


def _directive_body(match: re.Match[str]) -> str:
    """Keep the prose inside admonitions and figures; drop literal code blocks."""
    block = match.group(0)
    first = block.splitlines()[0]
    return block if "{" in first else ""


def test_there_are_chapters() -> None:
    assert len(CHAPTERS) >= 1, f"no executable chapters found in {BOOK}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_measured_numbers_in_prose_are_glued(chapter: Path) -> None:
    typed = []
    for paragraph in re.split(r"\n\s*\n", _prose(chapter.read_text(encoding="utf-8"))):
        if PUBLISHED.search(paragraph):
            continue
        typed += [m.group(0) for m in MEASURED.finditer(paragraph)]
    assert not typed, f"{chapter.name}: figures typed into prose instead of glued: {typed}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_glue_reference_is_glued(chapter: Path) -> None:
    text = chapter.read_text(encoding="utf-8")
    glued = set(GLUE_CALL.findall("\n".join(CODE_CELL.findall(text))))
    referenced = {ref.split(":")[0].strip() for ref in GLUE_REF.findall(text)}
    referenced |= {name for name, _ in GLUE_FIGURE.findall(text)}
    # f-string names (glue(f"bytes_{path}")) cannot be resolved statically: match their prefix.
    prefixes = {name.split("{")[0] for name in glued if "{" in name}
    missing = {
        name
        for name in referenced
        if name not in glued and not any(name.startswith(p) for p in prefixes if p)
    }
    assert not missing, f"{chapter.name}: glue references with no glue() call: {sorted(missing)}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_cookbook_sections(chapter: Path) -> None:
    text = chapter.read_text(encoding="utf-8")
    missing = [s for s in REQUIRED_SECTIONS if s not in text]
    assert not missing, f"{chapter.name}: missing sections {missing}"
    assert re.search(r"^# \S", text, re.M), f"{chapter.name}: no H1 title"
    assert re.search(r"^## .*(your turn|Exercises)", text, re.M | re.I), (
        f"{chapter.name}: no exercise section"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_glued_figures_have_alt_text_and_caption(chapter: Path) -> None:
    for name, body in GLUE_FIGURE.findall(chapter.read_text(encoding="utf-8")):
        assert re.search(r"^:alt:\s*\S", body, re.M), f"{chapter.name}: figure {name} has no :alt:"
        caption = [ln for ln in body.splitlines() if ln.strip() and not ln.startswith(":")]
        assert caption, f"{chapter.name}: figure {name} has no caption"


CELL_TAGS = re.compile(
    r"^```\{code-cell\}[^\n]*\n(?::tags:\s*\[([^\]]*)\]|---\n(.*?)\n---)", re.M | re.S
)
HIDDEN_INPUT = {"remove-input", "hide-input", "remove-cell", "hide-cell"}
SOLUTION = re.compile(r"#\s*Solution(?: to exercise)?\s+(\d+)", re.I)
EXERCISE = re.compile(r"^(\d+)\. \*\*", re.M)


def _cells_with_tags(text: str) -> list[tuple[set[str], str]]:
    """Every code cell of a page: its tags and its source."""
    cells = []
    for match in CODE_CELL.finditer(text):
        block = match.group(0)
        tags: set[str] = set()
        header = CELL_TAGS.match(block)
        if header and header.group(1) is not None:
            tags = {tag.strip() for tag in header.group(1).split(",")}
        elif header and header.group(2) is not None:
            listed = re.search(r"tags:\s*\[([^\]]*)\]", header.group(2))
            tags = {tag.strip() for tag in listed.group(1).split(",")} if listed else set()
        cells.append((tags, block))
    return cells


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_glue_calls_are_out_of_sight(chapter: Path) -> None:
    """Bookkeeping is not the lesson: a cell that glues hides its input."""
    visible = [
        block.splitlines()[1][:70]
        for tags, block in _cells_with_tags(chapter.read_text(encoding="utf-8"))
        if "glue(" in block and not tags & HIDDEN_INPUT
    ]
    assert not visible, f"{chapter.name}: visible cells calling glue(): {visible}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_collapsed_solution(chapter: Path) -> None:
    text = chapter.read_text(encoding="utf-8")
    turn = re.search(r"^## .*(your turn|Exercises).*?(?=^## |\Z)", text, re.M | re.S | re.I)
    assert turn, f"{chapter.name}: no exercise section"
    exercises = {int(n) for n in EXERCISE.findall(_prose(turn.group(0)))}
    solved = {
        int(n)
        for tags, block in _cells_with_tags(turn.group(0))
        if "hide-cell" in tags
        for n in SOLUTION.findall(block)
    }
    assert exercises, f"{chapter.name}: no numbered exercises found"
    assert exercises <= solved, (
        f"{chapter.name}: exercises without a collapsed solution: {sorted(exercises - solved)}"
    )
