"""Write the configuration `make linkcheck` builds with: `_config.yml`, execution off, no network.

Why: the link check must be quick and offline. It runs Sphinx's linkcheck builder on
the book's own configuration (so it sees exactly the pages and references the real
build sees) with three changes:

- notebooks are not executed (`execute_notebooks: off`), so no sample service and no
  minutes of computation;
- every http(s) URL is ignored, so nothing is fetched from the internet; what remains
  checked are the book's own links: cross-references and links between pages (which
  `--nitpick --warningiserror` turn into errors) and links to local files;
- the `mystnb.glue` warnings are suppressed, because without execution no value has
  been glued and every `{glue}` reference would warn.

A derived file rather than a second hand-kept copy, so the two cannot drift apart.
Usage: python tests/tools/linkcheck_config.py _config.yml .cache/linkcheck/_config.yml
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

OFF_SITE = [r"^https?://"]
SUPPRESSED_WITHOUT_EXECUTION = ["mystnb.glue"]


def linkcheck_config(config: dict[str, Any], base: Path | None = None) -> dict[str, Any]:
    """The book's configuration with execution off and off-site links ignored.

    ``base`` is the folder of the source configuration: the derived file lives elsewhere,
    so the folders of local Sphinx extensions become absolute paths.
    """
    derived = dict(config)
    derived["execute"] = {**(config.get("execute") or {}), "execute_notebooks": "off"}
    sphinx = dict(config.get("sphinx") or {})
    options = dict(sphinx.get("config") or {})
    options["linkcheck_ignore"] = [*options.get("linkcheck_ignore", []), *OFF_SITE]
    # Sphinx 7 warns (at every run) that this default changes in Sphinx 8; no URL is
    # fetched here, so state the future default and keep the output quiet.
    options["linkcheck_report_timeouts_as_broken"] = False
    options["suppress_warnings"] = [
        *options.get("suppress_warnings", []),
        *SUPPRESSED_WITHOUT_EXECUTION,
    ]
    sphinx["config"] = options
    if base is not None and sphinx.get("local_extensions"):
        sphinx["local_extensions"] = {
            name: str((base / folder).resolve())
            for name, folder in sphinx["local_extensions"].items()
        }
    derived["sphinx"] = sphinx
    return derived


def main(source: str, target: str) -> int:
    config = yaml.safe_load(Path(source).read_text(encoding="utf-8")) or {}
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    derived = linkcheck_config(config, Path(source).resolve().parent)
    out.write_text(yaml.safe_dump(derived, sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: linkcheck_config.py SOURCE_CONFIG TARGET_CONFIG", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
