"""`pip check`, accepting only the dependency conflicts named on the command line.

Why: `make` runs `pip check` after every install so a broken environment fails at once. One
conflict is deliberate: xarray-eopf 0.3.1 declares ``zarr<3`` and is installed with
``--no-deps`` on zarr 3 (requirements-no-deps.txt says why). pip has no option to accept a
known conflict, so this runs it and fails on any line not starting with one of the ``--allow``
prefixes (each a package and the requirement it states, e.g.
``xarray-eopf 0.3.1 has requirement zarr<3,>=2.11``).

Usage: ``python tests/tools/pip_check.py --allow "PREFIX" [--allow "PREFIX" ...]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CLEAN = "No broken requirements found."


def unexpected(report: str, allowed: list[str]) -> list[str]:
    """The lines of a `pip check` report that are neither empty, the all-clear, nor allowed."""
    lines = [line.strip() for line in report.splitlines()]
    return [
        line
        for line in lines
        if line and line != CLEAN and not any(line.startswith(prefix) for prefix in allowed)
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PREFIX",
        help="a conflict to accept: the start of pip check's line for it",
    )
    args = parser.parse_args(argv)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    report = result.stdout + result.stderr
    problems = unexpected(report, args.allow)
    if result.returncode not in (0, 1) or (result.returncode == 1 and not report.strip()):
        print(f"pip check did not run (exit {result.returncode}): {report.strip()}")
        return 1
    if problems:
        print("pip check found dependency conflicts:")
        print("\n".join(f"  {line}" for line in problems))
        return 1
    accepted = [line.strip() for line in report.splitlines() if line.strip() not in ("", CLEAN)]
    for line in accepted:
        print(f"pip check: known and accepted: {line}")
    if not accepted:
        print(CLEAN)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
