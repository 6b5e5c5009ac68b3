"""Imports point one way: the sample service never imports a reader-facing helper or its entry.

The reader-facing modules (`helpers.data_source`, `helpers.errors`, ...) may start the service
through its launcher; nothing inside `helpers/sample_service/` may import them back, nor the
``__main__`` entry script, and no import may hide inside a function to dodge a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import helpers.sample_service as package

PACKAGE_DIR = Path(package.__file__).parent
MODULES = sorted(PACKAGE_DIR.rglob("*.py"))


def _imported(source: str, module: str) -> list[tuple[str, int, bool]]:
    """(absolute module name, line, at module level) of every import in ``source``.

    ``module`` is the dotted name of the module the source belongs to (relative imports are
    resolved against its package).
    """
    tree = ast.parse(source)
    package_parts = module.split(".")[:-1]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package_parts[: len(package_parts) - node.level + 1] if node.level else []
            module_name = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [module_name] + [f"{module_name}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(name, node.lineno, id(node) in top_level) for name in names]
    return found


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE_DIR.parent.parent).with_suffix("").parts)


def _violations(source: str, module: str) -> list[str]:
    problems = []
    for name, line, top in _imported(source, module):
        where = f"{module}:{line}"
        inside = name.startswith("helpers.sample_service")
        if name.startswith("helpers.") and not inside:
            problems.append(f"{where} imports the reader-facing {name}")
        if name.startswith("helpers.sample_service.__main__"):
            problems.append(f"{where} imports the entry script")
        if not top and name != "__future__":
            problems.append(f"{where} imports {name} inside a function or block")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_module_imports_point_one_way(path: Path) -> None:
    assert _violations(path.read_text(encoding="utf-8"), _module_name(path)) == []


def test_the_scan_catches_each_kind_of_bad_import() -> None:
    source = (
        "from ... import errors\n"
        "from ..__main__ import main\n"
        "import helpers.traffic\n"
        "def f():\n    from .. import catalog\n"
    )
    problems = _violations(source, "helpers.sample_service.scenes.probe")
    assert any("reader-facing helpers.errors" in p for p in problems)
    assert any("entry script" in p for p in problems)
    assert any("reader-facing helpers.traffic" in p for p in problems)
    assert any("inside a function" in p for p in problems)
    assert _violations("from ..catalog import footprint\n", "helpers.sample_service.scenes.x") == []


def test_every_module_is_scanned() -> None:
    names = {p.relative_to(PACKAGE_DIR).as_posix() for p in MODULES}
    assert {"app.py", "launcher.py", "scenes/s2_l2a.py", "stac_api.py"} <= names


def test_the_package_docstring_names_every_module() -> None:
    """The package docstring is the map a maintainer starts from: it must not go stale."""
    # Single backticks name a module; double ones (``templates/...``) name data.
    named = set(re.findall(r"(?<!`)`([\w/]+)`(?!`)", package.__doc__ or ""))
    top_level = {p.stem for p in PACKAGE_DIR.glob("*.py") if p.stem != "__init__"}
    assert top_level | {"scenes/"} <= named, sorted(top_level - named)
    assert named <= top_level | {"scenes/"}, sorted(named - top_level - {"scenes/"})
