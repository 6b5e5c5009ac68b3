"""Which STAC API the book reads: the live one named by ``EOPF_STAC_URL``, or the local replica.

Why this module exists: every chapter starts with the same two lines::

    from helpers.data_source import stac_root_url, describe_source
    STAC_URL = stac_root_url()

and after them the reader's code is identical for both sources. Without
``EOPF_STAC_URL`` the local sample service is started in the background (or
reused) and its URL returned; with it, the URL is checked once with a short
timeout so that an offline reader gets one clear line instead of a stack of
connection errors several cells later.

Importing this module inside IPython also registers a handler that prints the
book's own errors (`helpers.errors.EOPFBookError`) as ``ErrorName: message``,
one line, instead of a traceback; `stac_root_url` also switches on retries for
every HTTP read (`helpers.retries`), so a flaky network changes no result.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from . import retries
from .errors import EOPFBookError, ServiceUnreachableError, UnknownCollectionError, UnknownItemError
from .sample_service import launcher, settings

ENV_VAR = "EOPF_STAC_URL"
CHECK_TIMEOUT_SECONDS = 10.0
_UNSET_HINT = (
    f"Check the address and your connection, or unset {ENV_VAR} to use the local sample service."
)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def is_sample() -> bool:
    """True when the book reads the local sample service (``EOPF_STAC_URL`` unset or empty)."""
    return not os.environ.get(ENV_VAR, "").strip()


def stac_root_url() -> str:
    """The STAC API root URL (with a trailing slash) the notebooks should open.

    ``EOPF_STAC_URL`` when set, after checking that it answers with a STAC
    landing page (`ServiceUnreachableError` otherwise); else the local sample
    service, started if needed.
    """
    _install_ipython_handler()
    retries.install()
    if is_sample():
        return launcher.ensure_running()
    url = os.environ[ENV_VAR].strip()
    if not url.endswith("/"):
        url += "/"
    check_stac_api(url)
    return url


def describe_source() -> str:
    """One line for a notebook to print: which service, and what is real about it."""
    url = stac_root_url()
    if is_sample():
        return (
            f"Using the local sample service at {url}, the catalogue of "
            f"{settings.sample_date()} ({settings.DATE_VAR}): structure and metadata replicate "
            f"the EOPF Sample Service, pixel values are synthetic. Set {ENV_VAR} to use a live "
            "API."
        )
    return f"Using the STAC API at {url} (from {ENV_VAR})."


def check_stac_api(url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """Raise `ServiceUnreachableError` unless ``url`` answers with a STAC landing page."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServiceUnreachableError(url, "it is not an http(s) URL", _UNSET_HINT)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    # Proxies apply to remote services only: a loopback address is never proxied.
    handlers = [urllib.request.ProxyHandler({})] if parts.hostname in _LOOPBACK else []
    opener = urllib.request.build_opener(*handlers)
    policy = retries.current_policy()
    try:
        # A busy live service may answer 5xx now and then: that is retried, as every later
        # read is. A refused or silent connection is reported at once (an offline reader).
        for attempt in range(1, policy.attempts + 1):
            try:
                with opener.open(request, timeout=timeout) as response:
                    body = response.read()
                break
            except urllib.error.HTTPError as error:
                if error.code not in policy.statuses or attempt == policy.attempts:
                    raise
                time.sleep(policy.wait(attempt))
    except urllib.error.HTTPError as error:
        raise ServiceUnreachableError(url, f"it answered HTTP {error.code}", _UNSET_HINT) from None
    except urllib.error.URLError as error:
        raise ServiceUnreachableError(url, _reason(error.reason, timeout), _UNSET_HINT) from None
    except (TimeoutError, OSError) as error:
        raise ServiceUnreachableError(url, _reason(error, timeout), _UNSET_HINT) from None
    try:
        landing = json.loads(body)
    except ValueError:
        landing = None
    if not isinstance(landing, dict) or not isinstance(landing.get("links"), list):
        raise ServiceUnreachableError(
            url, "it answered, but not with a STAC landing page", _UNSET_HINT
        )


def _reason(error: object, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    text = getattr(error, "strerror", None) or str(error)
    return text.rstrip(".") or type(error).__name__


def get_item(client: Any, collection_id: str, item_id: str) -> Any:
    """``client.get_collection(collection_id).get_item(item_id)``, with clear errors.

    pystac-client answers an unknown collection or item with ``None``; this
    raises `UnknownCollectionError` / `UnknownItemError` instead, naming what
    was asked for and what to do.
    """
    collection = client.get_collection(collection_id)
    if collection is None:
        known = [c.id for c in client.get_collections()]
        raise UnknownCollectionError(collection_id, known)
    item = collection.get_item(item_id)
    if item is None:
        raise UnknownItemError(collection_id, item_id)
    return item


def _install_ipython_handler() -> None:
    """Inside IPython, show `EOPFBookError` as ``ErrorName: message`` without a traceback.

    Idempotent; does nothing outside IPython (and never imports IPython itself).
    """
    module = sys.modules.get("IPython")
    shell = module.get_ipython() if module is not None else None
    if shell is None or getattr(shell, "_eopf_book_errors", False):
        return

    def one_line(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None):
        # IPython discards a custom handler's return value; showing the one-line
        # "traceback" through _showtraceback is what reaches notebooks and terminals.
        shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])

    shell.set_custom_exc((EOPFBookError,), one_line)
    shell._eopf_book_errors = True


_install_ipython_handler()
