"""The service's HTTP layer: errors aiohttp answers before the application sees the request.

Why this module exists: aiohttp's request parser refuses some requests itself (a request line
or header over 8190 bytes, a malformed request line) and answers them with plain text, which
the application's JSON error middleware never sees. A STAC client must get the same
``{"code", "description"}`` JSON as for any other error, so the protocol handler's
``handle_error`` is overridden here; both the command line (`__main__`) and the launcher's
threaded server run the application through `JsonErrorRunner`.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from .errors import one_line

MAX_LINE_BYTES = 8190
"""aiohttp's limit on the request line and each header line (its default)."""


class _JsonErrorHandler(RequestHandler):
    """aiohttp's protocol handler, answering its own errors as STAC API JSON."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # The parent logs the error and refuses to answer twice; its plain-text body is dropped.
        super().handle_error(request, status, exc, message)
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        if isinstance(exc, LineTooLong):
            description = (
                f"The request line or a header is longer than {MAX_LINE_BYTES} bytes; "
                "send a long search as a POST /search body instead."
            )
        elif status >= 500:
            description = "The service failed to handle the request."
        else:
            description = one_line(message or exc or phrase)
        code = "BadRequest" if status == 400 else phrase.replace(" ", "") or "HTTPError"
        response = web.json_response({"code": code, "description": description}, status=status)
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer HTTP-level errors as STAC API JSON."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server
