"""`make lab`: JupyterLab from the project's environment, with the chapters opening as notebooks.

Why this module exists: the chapters are MyST markdown files. JupyterLab opens them as
notebooks only through jupytext's viewer, and only when told to use it for markdown files; a
laptop has neither setting, so the book's own launcher gives both. It also starts the sample
service in the background first (as the first chapter cell would), so a reader sees it answer
before opening anything, and names the address to open.

The viewer setting goes into a configuration folder of the project's cache that is added to
Jupyter's search path (``JUPYTER_CONFIG_PATH``): the reader's own Jupyter configuration is
read as usual and never written to.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / ".cache" / "lab" / "config"
# JupyterLab's document manager: which viewer opens a file type by default (jupytext's
# viewer is called "Jupytext Notebook"; "markdown" covers .md, "myst" the MyST file type).
# The news check is switched off: it asks a web service, and the book works offline.
VIEWER_OVERRIDES = {
    "@jupyterlab/docmanager-extension:plugin": {
        "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    },
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"},
}


def write_config(config_dir: Path = CONFIG_DIR) -> Path:
    """Write the settings that make JupyterLab open the chapters as notebooks; the folder."""
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "default_setting_overrides.json").write_text(
        json.dumps(VIEWER_OVERRIDES, indent=2) + "\n", encoding="utf-8"
    )
    return config_dir


def lab_environment(config_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for JupyterLab: ``config_dir`` added to Jupyter's configuration path."""
    env = dict(os.environ if base is None else base)
    paths = [str(config_dir), *filter(None, env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


def lab_command(port: int, extra: list[str] | None = None) -> list[str]:
    """The JupyterLab command line: this environment's Python, the repository as root."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={REPO_ROOT}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI often run as root, where Jupyter refuses to start unless told.
        command.append("--ServerApp.allow_root=True")
    return [*command, *(extra or [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start JupyterLab for the book.")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--no-service", action="store_true", help="do not start the service")
    arguments, extra = parser.parse_known_args(argv)
    if not arguments.no_service and not os.environ.get("EOPF_STAC_URL", "").strip():
        from .sample_service.launcher import ensure_running

        print(f"Sample service: {ensure_running()}", flush=True)
    env = lab_environment(write_config())
    print(
        f"JupyterLab: http://127.0.0.1:{arguments.port}/lab/tree/book/01_find_and_open.md "
        "(chapters open as notebooks; Ctrl-C to stop)",
        flush=True,
    )
    os.execve(sys.executable, lab_command(arguments.port, extra), env)
    return 0  # not reached: execve replaces this process


if __name__ == "__main__":
    sys.exit(main())
