"""Run the sample service: ``python -m helpers.sample_service`` (what ``make serve`` does).

Foreground: port ``--port`` or ``EOPF_SAMPLE_PORT``, prints the STAC root of the catalogue of
``EOPF_SAMPLE_DATE`` and logs requests until Ctrl-C. ``--background`` (the `launcher`'s): no
request log, exits after ``EOPF_SAMPLE_IDLE_SECONDS`` without a request. A port in use or a bad
setting is one line on stderr and exit code 2; a bad catalogue record is one line; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from types import TracebackType

from .errors import EOPFBookError, SettingError


def one_line_errors(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """Report a book error (a bad catalogue record, a bad setting) as one line, no traceback.

    Installed before the service's modules are imported: loading the catalogue checks it.
    """
    if issubclass(kind, EOPFBookError):
        print(f"{kind.__name__}: {error}", file=sys.stderr)
    else:
        sys.__excepthook__(kind, error, trace)


if __name__ == "__main__":  # the entry script only: importing it changes nothing
    sys.excepthook = one_line_errors

from . import launcher, settings  # noqa: E402  (after the hook: these imports load the catalogue)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and serve; the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.sample_service", description="The local EOPF sample service."
    )
    parser.add_argument("--background", action="store_true", help="idle exit, no request log")
    parser.add_argument("--port", help=f"TCP port (default: ${settings.PORT_VAR}, else 8765)")
    args = parser.parse_args(argv)
    try:
        port, date = settings.port(args.port), settings.sample_date()
    except SettingError as error:
        print(error, file=sys.stderr)
        return settings.EXIT_CANNOT_LISTEN
    return launcher.serve(port, date, background=args.background)


if __name__ == "__main__":
    sys.exit(main())
