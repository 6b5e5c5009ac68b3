"""The Binder configuration, checked offline as far as it can be.

Why: a broken Binder setup shows only when a reader clicks "Launch" and waits for
a build that fails or opens a text editor instead of a notebook. repo2docker's
conventions are plain files, so most of what it will do can be checked here: which
folder it reads, which build pack it picks, the Python version, the requirements it
installs (the same pins the tests run on), and the post-build script. Not checked
here, because it needs the network: the image build itself and the JupyterLab version
of Binder's base image, which jupytext's extension must be compatible with.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / ".binder"

# Files repo2docker reads from the binder folder for a pip-based Python image.
EXPECTED_FILES = {"runtime.txt", "requirements.txt", "postBuild"}
# Files that would make repo2docker pick another build pack (and skip requirements.txt).
OTHER_BUILDPACK_FILES = {
    "Dockerfile",
    "environment.yml",
    "environment.yaml",
    "Pipfile",
    "Pipfile.lock",
    "pyproject.toml",
    "setup.py",
    "Project.toml",
    "REQUIRE",
    "install.R",
    "DESCRIPTION",
    "default.nix",
    "flake.nix",
    "manifest.scm",
}
JUPYTEXT_VIEWER = "Jupytext Notebook"


def requirement_lines(path: Path) -> list[str]:
    """Requirement lines of a pip requirements file, following `-r` includes as pip does.

    pip resolves an included file relative to the including file; only `-r` is
    used by this project, so other options are rejected rather than half-parsed.
    """
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            lines += requirement_lines(path.parent / line.split(maxsplit=1)[1])
        elif line.startswith("-"):
            pytest.fail(f"{path.name}: unexpected pip option {line!r}")
        else:
            lines.append(line)
    return lines


def python_of_the_tests() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def test_binder_folder_is_the_only_configuration_repo2docker_reads() -> None:
    assert BINDER.is_dir()
    assert not (ROOT / "binder").exists(), "repo2docker refuses both binder/ and .binder/"
    assert {path.name for path in BINDER.iterdir()} == EXPECTED_FILES


def test_nothing_selects_another_build_pack() -> None:
    present = {name for name in OTHER_BUILDPACK_FILES if (BINDER / name).exists()}
    assert not present, f"these would replace the pip build: {sorted(present)}"


def test_runtime_is_the_python_the_tests_run_on() -> None:
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-\d+\.\d+", runtime), runtime
    version = runtime.removeprefix("python-")
    assert version == python_of_the_tests()
    header = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()[0]
    assert f"Python {version}" in header, f"pins were resolved for another Python: {header}"
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    requires = re.search(r'requires-python\s*=\s*"([^"]+)"', project)
    assert requires and version in SpecifierSet(requires.group(1))


def test_binder_installs_exactly_the_pinned_requirements() -> None:
    via_binder = requirement_lines(BINDER / "requirements.txt")
    assert via_binder == requirement_lines(ROOT / "requirements.txt")
    pins = [Requirement(line) for line in via_binder]
    loose = [str(req) for req in pins if [s.operator for s in req.specifier] != ["=="]]
    assert not loose, f"not pinned exactly: {loose}"
    names = [canonicalize_name(req.name) for req in pins]
    assert len(names) == len(set(names)), "a package is pinned twice"
    direct = [
        canonicalize_name(Requirement(line).name)
        for line in requirement_lines(ROOT / "requirements.in")
    ]
    assert set(direct) <= set(names), (
        f"direct dependencies left unpinned: {set(direct) - set(names)}"
    )
    assert {"jupytext", "ipykernel"} <= set(names)


def test_the_tested_environment_satisfies_every_binder_pin() -> None:
    """pip itself parses the Binder file (with its include) and finds nothing to install.

    `--no-index` keeps pip off the network: anything not already installed at the
    pinned version is an error instead of a download.
    """
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps"),
            *("--quiet", "--report", "-", "-r", str(BINDER / "requirements.txt")),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]
    assert json.loads(result.stdout)["install"] == []


def test_post_build_is_an_executable_bash_script() -> None:
    script = BINDER / "postBuild"
    assert os.access(script, os.X_OK), "repo2docker runs postBuild as a program"
    assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def post_build_commands() -> list[list[str]]:
    lines = (BINDER / "postBuild").read_text(encoding="utf-8").splitlines()
    return [
        shlex.split(line) for line in lines if line.strip() and not line.startswith(("#", "set "))
    ]


def test_post_build_installs_the_helpers_without_touching_the_pins() -> None:
    install = [
        cmd for cmd in post_build_commands() if cmd[:4] == ["python", "-m", "pip", "install"]
    ]
    assert len(install) == 2
    assert all("--no-deps" in cmd for cmd in install)
    assert install[0][-2:] == ["-r", "requirements-no-deps.txt"]
    assert install[1][-2:] == ["-e", "."]


def test_post_build_accepts_the_same_single_conflict_as_make() -> None:
    """Binder's pip check tolerates exactly the conflict the Makefile names, nothing else."""
    (check,) = [cmd for cmd in post_build_commands() if "tests/tools/pip_check.py" in cmd]
    allowed = [check[i + 1] for i, word in enumerate(check) if word == "--allow"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    known = re.search(r"^KNOWN_CONFLICT := (.+)$", makefile, re.MULTILINE)
    assert known and allowed == [known.group(1).strip()]


def test_no_deps_file_pins_only_what_the_main_file_leaves_out() -> None:
    """xarray-eopf is pinned exactly, once, in requirements-no-deps.txt and nowhere else."""
    no_deps = [Requirement(line) for line in requirement_lines(ROOT / "requirements-no-deps.txt")]
    assert [canonicalize_name(req.name) for req in no_deps] == ["xarray-eopf"]
    assert [s.operator for s in no_deps[0].specifier] == ["=="]
    pinned = {
        canonicalize_name(Requirement(line).name)
        for line in requirement_lines(BINDER / "requirements.txt")
    }
    direct = {
        canonicalize_name(Requirement(line).name)
        for line in requirement_lines(ROOT / "requirements.in")
    }
    assert "xarray-eopf" not in pinned | direct, "xarray-eopf would be installed with its zarr<3"
    assert {"zarr", "pystac-client", "xcube-resampling", "jupyterlab"} <= pinned


def test_post_build_makes_markdown_open_as_notebooks(tmp_path: Path) -> None:
    """Run postBuild's jupytext-config line against a scratch settings file."""
    (command,) = [cmd for cmd in post_build_commands() if cmd[0] == "jupytext-config"]
    settings = tmp_path / "default_setting_overrides.json"
    program = Path(sys.executable).with_name("jupytext-config")
    subprocess.run(
        [str(program), "--settings-file", str(settings), *command[1:]], check=True, cwd=ROOT
    )
    viewers = json.loads(settings.read_text())["@jupyterlab/docmanager-extension:plugin"]
    assert viewers["defaultViewers"] == {"markdown": JUPYTEXT_VIEWER, "myst": JUPYTEXT_VIEWER}


def test_jupytext_ships_the_viewer_post_build_names() -> None:
    """The pinned jupytext registers the "Jupytext Notebook" viewer in JupyterLab."""
    extension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-jupytext"
    bundles = list((extension / "static").glob("*.js"))
    assert any(JUPYTEXT_VIEWER in path.read_text(encoding="utf-8") for path in bundles)
    server = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "jupytext.json"
    enabled = json.loads(server.read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled.get("jupyterlab_jupytext") is True


def test_launch_buttons_open_binder_in_jupyterlab() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"].startswith("https://github.com/")
    assert config["repository"]["branch"]
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"
