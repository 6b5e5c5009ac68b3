"""The origin (scheme://host:port) of a request, for the hrefs the service writes into answers.

Why one module: the STAC routes and the SAFE replica both put absolute links in their answers
(item assets, redirects), and both must get them right on whatever port the service runs
without letting a forged Host header point a link elsewhere.
"""

from __future__ import annotations

from aiohttp import web

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def request_origin(request: web.Request) -> str:
    """scheme://host:port the request came in on.

    The Host header is trusted only when it names the loopback interface the service listens
    on; anything else falls back to the socket's own address.
    """
    if request.url.host in LOOPBACK:
        return str(request.url.origin())
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if sockname:
        return f"http://{sockname[0]}:{sockname[1]}"
    return "http://127.0.0.1"
