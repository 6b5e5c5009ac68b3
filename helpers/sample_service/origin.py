"""The origin (scheme://host:port) of a request, for the absolute links in the answers.

Shared by the STAC routes and the SAFE replica, so no forged Host header points a link elsewhere.
"""

from __future__ import annotations

from aiohttp import web

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def request_origin(request: web.Request) -> str:
    """scheme://host:port the request came in on (the Host header only if it is loopback)."""
    if request.url.host in LOOPBACK:
        return str(request.url.origin())
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if sockname:
        return f"http://{sockname[0]}:{sockname[1]}"
    return "http://127.0.0.1"
