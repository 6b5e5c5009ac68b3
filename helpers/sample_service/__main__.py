"""Run the sample service: ``python -m helpers.sample_service`` (what ``make serve`` does).

Foreground: port ``--port`` or ``EOPF_SAMPLE_PORT``, prints the STAC root of the catalogue of
``EOPF_SAMPLE_DATE`` and logs requests until Ctrl-C. ``--background`` (the `launcher`'s): no
request log, exits after ``EOPF_SAMPLE_IDLE_SECONDS`` without a request. A port in use is one
line on stderr and exit code 2; a bad catalogue record is one line; no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import signal
import socket
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

from aiohttp import web  # noqa: E402  (after the hook: these imports load the catalogue)

from . import settings  # noqa: E402
from .app import ACTIVITY, build_app  # noqa: E402
from .launcher import JsonErrorRunner, catalogue_url  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, take the port, serve until stopped; the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.sample_service", description="The local EOPF sample service."
    )
    parser.add_argument("--background", action="store_true", help="idle exit, no request log")
    parser.add_argument("--port", help=f"TCP port (default: ${settings.PORT_VAR}, else 8765)")
    args = parser.parse_args(argv)

    try:
        port = settings.port(args.port)
        date = settings.sample_date()
    except SettingError as error:
        print(error, file=sys.stderr)
        return settings.EXIT_CANNOT_LISTEN
    try:
        sock = socket.create_server(("127.0.0.1", port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            how = f"{settings.PORT_VAR}={port + 1}" + ("" if args.background else " make serve")
            message = f"Port {port} is already in use; choose another one, e.g. {how}"
        else:
            message = f"Cannot listen on 127.0.0.1:{port}: {error.strerror or error}"
        print(message, file=sys.stderr)
        return settings.EXIT_CANNOT_LISTEN

    url = catalogue_url(port, date)
    if args.background:
        idle = settings.idle_seconds()
        banner = f"EOPF sample service at {url} (background; exits after {idle:g} s idle)"
    else:
        idle = None
        banner = f"EOPF sample service at {url} (Ctrl-C to stop)"
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    dates = ", ".join(f"/{d}/" for d in settings.SUPPORTED_DATES)
    banner += f"\nCatalogue of {date} ({settings.DATE_VAR}); every date has its own root: {dates}"
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while shutting down
        asyncio.run(_serve(sock, banner=banner, idle_seconds=idle, access_log=not args.background))
    return 0


async def _serve(
    sock: socket.socket, *, banner: str, idle_seconds: float | None, access_log: bool
) -> None:
    """Serve on ``sock`` until SIGINT/SIGTERM, or until idle for ``idle_seconds``."""
    app = build_app()
    runner = JsonErrorRunner(
        app, handle_signals=False, **({} if access_log else {"access_log": None})
    )
    await runner.setup()
    await web.SockSite(runner, sock).start()
    print(banner, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        while not stop.is_set():
            check_every = min(30.0, idle_seconds / 4) if idle_seconds else None
            try:
                await asyncio.wait_for(stop.wait(), timeout=check_every)
            except TimeoutError:
                if idle_seconds and app[ACTIVITY].idle_seconds() >= idle_seconds:
                    print(f"Idle for {idle_seconds:g} s: stopping.", flush=True)
                    break
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
