"""The one-line errors of the sample service and its launcher.

The service imports no reader-facing helper, yet a reader who starts it must see the same
``ErrorName: message`` line as for any book error: the base class lives here and
`helpers.errors` re-exports it.
"""

from __future__ import annotations


def one_line(text: object) -> str:
    """Fold whitespace runs (including newlines) into single spaces."""
    return " ".join(str(text).split())


class EOPFBookError(Exception):
    """Base class: an error the reader can act on, described in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class ServiceUnreachableError(EOPFBookError):
    """A STAC service that does not answer (or answers with an error)."""

    def __init__(self, url: str, reason: str, hint: str = "") -> None:
        self.url, self.reason = url, reason
        super().__init__(f"Cannot reach {url}: {reason}. {hint}")


class PortInUseError(EOPFBookError):
    """The sample service's port is held by another program."""

    def __init__(self, port: int, hint: str) -> None:
        self.port = port
        super().__init__(f"Port {port} is in use by another program. {hint}")


class SettingError(EOPFBookError):
    """An environment variable the service reads holds a value it cannot use."""


class CatalogueError(EOPFBookError):
    """A record of the catalogue's data files breaks the schema (file, record and field named)."""

    def __init__(self, file: str, record: str, field: str, problem: str) -> None:
        self.file, self.record, self.field = file, record, field
        super().__init__(f"{file}: record {record}: field '{field}' {problem}.")


class StacApiError(Exception):
    """An HTTP error answer: status plus a stac-fastapi style ``{"code", "description"}`` body.

    Every route answers its errors this way (`stac_routes.json_errors`).
    """

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code = status, code
        self.description = one_line(description)  # it may quote the reader's input

    def body(self) -> dict[str, str]:
        """The JSON body, e.g. ``{"code": "NotFoundError", "description": "..."}``."""
        return {"code": self.code, "description": self.description}


def not_found(description: str) -> StacApiError:
    """A 404 as stac-fastapi answers it for unknown collections and items."""
    return StacApiError(404, "NotFoundError", description)


def bad_request(description: str) -> StacApiError:
    """A 400 for parameters the reader can fix."""
    return StacApiError(400, "BadRequest", description)
