"""`make lab`: the settings that open the chapters as notebooks, and the command it runs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from helpers import lab


def test_config_opens_markdown_with_jupytext(tmp_path: Path) -> None:
    folder = lab.write_config(tmp_path / "config")
    overrides = json.loads(
        (folder / "labconfig" / "default_setting_overrides.json").read_text(encoding="utf-8")
    )
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    notifications = overrides["@jupyterlab/apputils-extension:notification"]
    assert notifications["fetchNews"] == "false"  # offline: no news from the web


def test_environment_adds_the_folder_and_keeps_the_readers_own(tmp_path: Path) -> None:
    env = lab.lab_environment(tmp_path, {"JUPYTER_CONFIG_PATH": "/home/reader/jupyter"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(tmp_path), "/home/reader/jupyter"]
    assert lab.lab_environment(tmp_path, {})["JUPYTER_CONFIG_PATH"] == str(tmp_path)


def test_command_uses_this_environment_and_the_repository() -> None:
    command = lab.lab_command(8899, ["--no-browser"])
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={lab.REPO_ROOT}" in command
    assert "--ServerApp.port=8899" in command and command[-1] == "--no-browser"
