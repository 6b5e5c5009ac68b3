"""Nothing of the reader's is lost: builds and tests write only to outputs, ``make clean`` only
removes outputs.

What must hold: ``make clean`` removes ``_build/``, the project's caches and ``__pycache__``
folders and nothing else; a reader's own files (in ``book/`` and beside it) survive the test
run, the notebook conversion and ``make clean``; and those write only under ``_build/``,
``.cache/`` and temporary directories.

Everything that writes or deletes runs in a temporary copy of the project, never in the live
tree (whose caches other processes may be using). The copy shares the live virtual environment
through a symbolic link, and ``make -o .venv/.installed`` stops make from ever reinstalling it.
``make book`` executes every chapter, far too slow for a unit test; its outputs are checked from
its configuration instead (``_build/``, only the table of contents built).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = ("_build", ".cache", ".pytest_cache", ".ruff_cache")
"""What builds and tests may write (plus temporary directories and ``__pycache__``)."""
_COPIED = (
    "Makefile",
    "_config.yml",
    "_toc.yml",
    "pyproject.toml",
    "requirements.txt",
    "requirements-no-deps.txt",
)
_COPIED_DIRS = ("book", "helpers", "tests")
# Never remake (reinstall) the shared environment; and when this runs under `make test`, the
# outer make must not make the inner one print "Entering directory" lines into its recipes.
_MAKE = ("make", "--no-print-directory", "-o", ".venv/.installed")


def _is_output(relative: Path) -> bool:
    return relative.parts[0] in OUTPUTS or "__pycache__" in relative.parts


def snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every file outside the outputs (and outside the linked environment)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder).relative_to(root)
        dirs[:] = [d for d in dirs if d != ".venv" and not _is_output(here / d)]
        for name in files:
            path = Path(folder) / name
            found[(here / name).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def project_copy(tmp_path: Path) -> Iterator[Path]:
    """The project's sources in a temporary folder, with the live environment linked in."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in _COPIED:
        shutil.copy2(REPO / name, copy / name)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for name in _COPIED_DIRS:
        shutil.copytree(REPO / name, copy / name, ignore=ignore)
    (copy / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    yield copy
    _stop_processes_in(copy)


def _stop_processes_in(folder: Path) -> None:
    """Stop what runs from ``folder`` (a background sample service this test started)."""
    processes = _processes_in(folder)
    for process in processes:
        process.send_signal(signal.SIGTERM)
    psutil.wait_procs(processes, timeout=30)


def _processes_in(folder: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cwd", "pid"]):
        try:
            cwd = process.info["cwd"]
            if cwd and Path(cwd).is_relative_to(folder) and process.pid != os.getpid():
                found.append(process)
        except (psutil.Error, ValueError):
            continue
    return found


def _env(copy: Path) -> dict[str, str]:
    """The environment of a reader's shell in the copy: its own helpers, no overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EOPF_", "PYTEST_"))}
    env["PYTHONPATH"] = str(copy)  # the copy's helpers, so its caches and logs are its own
    return env


def _plant_reader_files(copy: Path) -> list[str]:
    """A reader's own notes, data and notebook, uniquely named."""
    tag = uuid.uuid4().hex[:12]
    files = {
        f"book/my-notes-{tag}.md": "# My notes\n\nThe b08 mean was worth a second look.\n",
        f"book/my-data-{tag}/result.csv": "x,y\n1,2\n",
        f"book/my-data-{tag}/cube.zarr/.zgroup": '{"zarr_format": 2}\n',
        f"my-analysis-{tag}.ipynb": '{"cells": [], "metadata": {}, "nbformat": 4}\n',
        f"helpers/my_helper_{tag}.py": "ANSWER = 42\n",
    }
    for name, text in files.items():
        path = copy / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


def test_make_clean_names_only_outputs() -> None:
    """The recipe itself, as make would run it here (a dry run: nothing is executed)."""
    done = subprocess.run(
        [*_MAKE, "-n", "clean"], cwd=REPO, capture_output=True, text=True, check=True
    )
    commands = [shlex.split(line) for line in done.stdout.splitlines() if line.strip()]
    assert commands, "make clean does nothing"
    for words in commands:
        if words[0] == "rm":
            targets = [w for w in words[1:] if not w.startswith("-")]
            assert targets and all(t.rstrip("/") in OUTPUTS for t in targets), words
        elif words[0] == "find":
            # Only __pycache__ folders, and only under the project's code.
            assert words[words.index("-name") + 1] == "__pycache__", words
            assert words[words.index("-type") + 1] == "d", words
            assert set(words[1 : words.index("-name")]) <= {"helpers", "tests"}, words
        else:
            pytest.fail(f"make clean runs an unexpected command: {shlex.join(words)}")


def test_the_book_build_writes_under_build_only() -> None:
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    assert config["only_build_toc_files"] is True  # a reader's page in book/ is left alone
    assert config["execute"]["cache"].startswith("_build/")
    assert {"_build", ".cache"} <= set(config["exclude_patterns"])
    done = subprocess.run(
        [*_MAKE, "-n", "book"], cwd=REPO, capture_output=True, text=True, check=True
    )
    build = [line for line in done.stdout.splitlines() if "jupyter-book build" in line]
    # `jupyter-book build .` writes to ./_build; no other output path is given.
    assert len(build) == 1 and "jupyter-book build . " in build[0]
    assert "--path-output" not in build[0] and "--builder" not in build[0]


def test_tests_and_builds_write_only_outputs_and_clean_keeps_the_readers_files(
    project_copy: Path,
) -> None:
    copy = project_copy
    planted = _plant_reader_files(copy)
    before = snapshot(copy)
    env = _env(copy)

    # `make unit`, narrowed to tests that start services, fill the chunk cache and keep a
    # hypothesis database: the writers among the tests.
    narrowed = {
        **env,
        "PYTEST_ADDOPTS": "-q -x -k 'test_errors.py or test_no_search_body_makes_a_500 "
        "or test_the_service_command_listens_on_loopback_only'",
    }
    unit = subprocess.run(
        [*_MAKE, "unit"], cwd=copy, env=narrowed, capture_output=True, text=True, timeout=600
    )
    assert unit.returncode == 0, unit.stdout[-3000:] + unit.stderr[-3000:]
    assert " passed" in unit.stdout

    # `make notebooks` up to (not including) executing every chapter.
    recipe = subprocess.run(
        [*_MAKE, "-n", "notebooks"], cwd=copy, env=env, capture_output=True, text=True, check=True
    )
    for line in recipe.stdout.splitlines():
        if "--nbmake" in line:
            continue
        subprocess.run(["bash", "-c", line], cwd=copy, env=env, check=True, timeout=300)

    # What a chapter's first cell does: start (or reuse) the background sample service.
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    started = subprocess.run(
        [sys.executable, "-c", "from helpers.data_source import stac_root_url; stac_root_url()"],
        cwd=copy,
        env={**env, "EOPF_SAMPLE_PORT": str(port), "EOPF_SAMPLE_IDLE_SECONDS": "30"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    _stop_processes_in(copy)

    # Nothing outside the outputs appeared, changed or went; the outputs are where expected.
    assert snapshot(copy) == before
    assert any((copy / ".cache" / "sample-service" / "chunks").rglob("*"))
    assert (copy / ".cache" / "sample-service" / f"service-{port}.log").is_file()
    assert any((copy / ".cache" / "hypothesis").rglob("*"))
    assert sorted(p.name for p in (copy / ".cache" / "notebooks").glob("*.ipynb"))

    # `make clean` removes the outputs, and only them.
    (copy / "_build" / "html").mkdir(parents=True)
    (copy / "_build" / "html" / "index.html").write_text("<html></html>")
    (copy / ".pytest_cache").mkdir()
    (copy / "helpers" / "__pycache__").mkdir(exist_ok=True)
    (copy / "helpers" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    subprocess.run([*_MAKE, "clean"], cwd=copy, env=env, check=True, capture_output=True)
    assert not any((copy / name).exists() for name in OUTPUTS)
    assert not (copy / "helpers" / "__pycache__").exists()
    assert snapshot(copy) == before
    assert all((copy / name).is_file() for name in planted)
    assert (copy / ".venv").is_symlink() and (REPO / ".venv" / ".installed").is_file()
