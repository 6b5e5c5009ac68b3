"""Fault injection, so the book's claim that a flaky network changes no number is tested.

``EOPF_SAMPLE_FAULTS="rate=0.2,latency=0.2,drop=0.05,seed=1"`` (or ``build_app(faults=...)``):
``rate`` of requests answered 5xx with a JSON body; ``latency`` seconds before every answer;
``bandwidth`` Mbit/s of one link all bodies share (0: unlimited); ``drop``: the fraction of
answers cut off mid-body (headers promise the whole length); ``seed``; ``match``: a regular
expression on the path (default: every path but ``/``, which the launcher probes). Bodies are
paced and cut as `http_ranges.send` streams them, block by block.

Whether a request fails depends on the seed, the request (method, path and query, ``Range``)
and how often that same request was seen before, never on the arrival order of concurrent
requests: the n-th attempt at a chunk fails in every run with the same seed.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Literal

from aiohttp import web

from .errors import EOPFBookError
from .http_ranges import DELIVERY, BytesBlob, Delivery, send
from .settings import FAULTS_VAR

FAILURE_STATUSES = (500, 502, 503, 504)
DEFAULT_MATCH = r"^/."  # every path but the root: see the module docstring
_LIMITS = {  # setting: (largest value, what is allowed)
    "rate": (1.0, "a fraction from 0 to 1"),
    "drop": (1.0, "a fraction from 0 to 1"),
    "latency": (60.0, "0 to 60 seconds"),
    "bandwidth": (100_000.0, "0 to 100000 Mbit/s (0: unlimited)"),
}
_ALWAYS_DESCRIBED = ("rate", "latency", "drop", "seed")
_MAX_REMEMBERED = 200_000  # requests whose attempt count is kept (oldest forgotten first)

Outcome = Literal["pass", "fail", "drop"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


class FaultSpecError(EOPFBookError):
    """An ``EOPF_SAMPLE_FAULTS`` setting the service cannot use."""

    def __init__(self, text: str, problem: str) -> None:
        super().__init__(
            f"{FAULTS_VAR}='{text}': {problem}. Use e.g. rate=0.2,latency=0.2,drop=0.05,seed=1."
        )


@dataclass(frozen=True)
class FaultSpec:
    """How the service should misbehave; the defaults misbehave not at all."""

    rate: float = 0.0
    latency: float = 0.0
    drop: float = 0.0
    seed: int = 0
    bandwidth: float = 0.0
    match: str = DEFAULT_MATCH
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = self.describe()
        for name, (top, allowed) in _LIMITS.items():
            value = getattr(self, name)
            if not 0.0 <= value <= top:
                raise FaultSpecError(text, f"{name} must be {allowed}, got {value}")
        if self.rate + self.drop > 1.0:
            raise FaultSpecError(text, "rate + drop cannot exceed 1")
        try:
            object.__setattr__(self, "_pattern", re.compile(self.match))
        except re.error as error:
            raise FaultSpecError(text, f"match is not a regular expression ({error})") from None

    @property
    def active(self) -> bool:
        """Whether this spec changes anything at all."""
        return bool(self.rate or self.latency or self.drop or self.bandwidth)

    def describe(self) -> str:
        """The spec in the ``EOPF_SAMPLE_FAULTS`` syntax (others than the first four: if set)."""
        shown = [
            (f.name, getattr(self, f.name))
            for f in fields(self)
            if f.init and (f.name in _ALWAYS_DESCRIBED or getattr(self, f.name) != f.default)
        ]
        return ",".join(f"{n}={v:g}" if isinstance(v, float) else f"{n}={v}" for n, v in shown)

    def middleware(self) -> Middleware:
        """The aiohttp middleware for `app.build_app(faults=...)`, with its own attempt counts."""
        return FaultInjector(self).middleware


def parse(text: str) -> FaultSpec:
    """A `FaultSpec` from ``"rate=0.2,latency=0.2,drop=0.05,seed=1"`` (any subset, any order)."""
    names = [f.name for f in fields(FaultSpec) if f.init]
    convert = {"match": str.strip, "seed": int}
    values: dict[str, float | int | str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or name not in names:
            known = ", ".join(names)
            raise FaultSpecError(text, f"'{part}' is not one of name=value with name in {known}")
        try:
            values[name] = convert.get(name, float)(value)
        except ValueError:
            raise FaultSpecError(text, f"{name} must be a number, got '{value}'") from None
    return FaultSpec(**values)  # type: ignore[arg-type]


def from_env() -> FaultSpec | None:
    """The spec in ``EOPF_SAMPLE_FAULTS``, or None when it is unset, empty or changes nothing."""
    spec = parse(os.environ.get(FAULTS_VAR, ""))
    return spec if spec.active else None


class FaultInjector:
    """Decides, request by request, whether to pass, fail or cut off; and does it."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._seen: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        self._lock = threading.Lock()
        self.counts: dict[Outcome, int] = {"pass": 0, "fail": 0, "drop": 0}
        """How many requests met each outcome (for tests and curious readers)."""
        self._link_free_at = 0.0  # monotonic time at which the shared link is next idle

    def transfer_delay(self, nbytes: int) -> float:
        """Seconds until ``nbytes`` have crossed the one shared link, after earlier bodies."""
        if not self.spec.bandwidth or nbytes <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._link_free_at)
            self._link_free_at = start + nbytes * 8 / (self.spec.bandwidth * 1e6)
            return self._link_free_at - now

    def decide(self, method: str, path_qs: str, byte_range: str = "") -> tuple[Outcome, float]:
        """(outcome, a number in [0, 1) for details) of the n-th such request, by the seed."""
        key = (method, path_qs, byte_range)
        with self._lock:
            attempt = self._seen.pop(key, 0)
            self._seen[key] = attempt + 1
            if len(self._seen) > _MAX_REMEMBERED:
                self._seen.popitem(last=False)
            # random.Random seeded with a str hashes it (SHA-512): stable across runs and platforms.
            draw = random.Random(f"{self.spec.seed}|{method}|{path_qs}|{byte_range}|{attempt}")
            chance, detail = draw.random(), draw.random()
            outcome: Outcome = "pass"
            if chance < self.spec.rate:
                outcome = "fail"
            elif chance < self.spec.rate + self.spec.drop:
                outcome = "drop"
            self.counts[outcome] += 1
        return outcome, detail

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The aiohttp middleware: delay, then answer 5xx, or pace and maybe cut the body."""
        spec = self.spec
        if not spec.active or not spec._pattern.search(request.path):
            return await handler(request)
        outcome, detail = self.decide(
            request.method, request.path_qs, request.headers.get("Range", "")
        )
        if spec.latency:
            await asyncio.sleep(spec.latency)
        if outcome == "fail":
            status = FAILURE_STATUSES[int(detail * len(FAILURE_STATUSES))]
            body = {"code": "InjectedFault", "description": "Fault injected by the sample service."}
            return web.json_response(body, status=status)
        request[DELIVERY] = delivery = Delivery(
            self.transfer_delay if spec.bandwidth else None, detail if outcome == "drop" else None
        )
        response = await handler(request)
        body = response.body if isinstance(response, web.Response) else None
        if response.prepared or not isinstance(body, bytes) or delivery == Delivery():
            return response  # streamed by its handler (`http_ranges.send`), or left alone
        # A body built whole (a STAC document, a file of `helpers.local_server`) goes the same way.
        streamed = web.StreamResponse(
            status=response.status, reason=response.reason, headers=response.headers
        )
        return await send(request, streamed, BytesBlob(body), 0, len(body))
