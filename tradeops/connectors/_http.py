"""HTTP plumbing shared by the control plane and OANDA connectors.

One GET here is bounded as a whole: `fetch()` sets the call's deadline for every socket
operation it makes (connect, TLS, write, each read), so a server that drips one byte a
second, or streams a chunked body that never ends, costs at most the call's budget. The
body is read to a size cap, JSON is decoded with a depth limit, and every string a server
sent is passed through `scrub()` before it can reach a message.

Clients are built by `new_client()`: one connection pool per connector (two connections at
most), no SSL context at all for an `http://` URL and one shared context for `https://`,
and an optional request pace so the suite stays under a broker's rate limits.
"""

from __future__ import annotations

import functools
import json
import os
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from tradeops._secret import Secret

MAX_DEPTH = 64  # nesting of a JSON answer; the contract's answers nest 4 deep
MAX_CONNECTIONS = 2  # per control plane client (its probe reads health and strategies at once)
# Per broker client: one. OANDA allows 2 new connections per second per login; the probe
# and each xdist worker hold one kept-alive connection each, so a run opens one per process.
BROKER_CONNECTIONS = 1
KEEPALIVE_S = 5.0
TRANSIENT_STATUS = (502, 503)
MIN_SCRUBBED = 8  # tokens shorter than this are not scrubbed (OANDA's are 65 characters)

_DEADLINE: ContextVar[float | None] = ContextVar("tradeops_http_deadline", default=None)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
_SPACE = re.compile(r"\s")  # the whitespace _BEARER's \s means, found in one C loop


# -- secrets -------------------------------------------------------------------------


def scrub(text: str) -> str:
    """`text` with every configured token and any `Bearer <credential>` replaced by ***.

    Every string that came from a server goes through here before it is kept: a server
    may echo the Authorization header in a field, an error body, a header or a redirect.
    """
    for secret in Secret.every():
        # A "token" of a few characters is no secret and would mangle ordinary words.
        if len(secret) >= MIN_SCRUBBED:
            text = text.replace(secret, "***")
    # A Bearer credential follows whitespace: a text with none (an id, an instrument, a
    # time: nearly every field) cannot hold one, and the case-blind search is skipped.
    if _SPACE.search(text) is None:
        return text
    return _BEARER.sub(r"\1 ***", text)


# -- clients -------------------------------------------------------------------------


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The one verifying SSL context of the process (building one costs ~20 ms)."""
    return httpx.create_ssl_context()


class Pace:
    """A token bucket: at most `burst + rate` requests in any second, thread-safe."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def wait(self, deadline: float) -> None:
        """Take one request's token, sleeping for it but never past `deadline`."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            self._tokens -= 1
            lack = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if lack > 0:
            time.sleep(max(0.0, min(lack, deadline - time.monotonic())))


# OANDA allows 120 requests per second per login; the suite keeps to 100 across all its
# processes (an xdist run shares the budget between its workers).
BROKER_REQUESTS_PER_S = 100
BROKER_BURST = 10


def _share() -> int:
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    return max(1, int(workers)) if workers.isdigit() else 1


def broker_pace() -> Pace:
    """This process's share of the broker's request budget."""
    return Pace(BROKER_REQUESTS_PER_S / _share(), max(1, BROKER_BURST // _share()))


def new_client(
    url: str,
    *,
    timeout_s: float,
    headers: dict[str, str],
    auth: httpx.Auth | None = None,
    transport: httpx.BaseTransport | None = None,
    max_connections: int = MAX_CONNECTIONS,
) -> httpx.Client:
    """A client for one base URL: pooled (at most `max_connections`), deadline-bounded,
    no redirects, no environment."""
    https = url.lower().startswith("https://")
    return _Client(
        max_connections,
        base_url=url,
        headers=headers,
        auth=auth,
        timeout=timeout_s,
        transport=transport or _Transport(shared_ssl_context() if https else None, max_connections),
        follow_redirects=False,  # a redirect could carry the token elsewhere
        # Talk to exactly the URL in the manifest: no proxy or netrc from the environment.
        trust_env=False,
    )


class _Client(httpx.Client):
    """An httpx.Client whose threads take turns: at most one request per pooled connection
    is ever in the pool (`fetch` holds a turn from the request to its body's last byte).

    httpcore's pool (1.0.9, encode/httpcore#1110) may close a connection it has assigned
    to a queued request while another thread passes through it: that request then fails
    ("Bad file descriptor") or hangs to its timeout, and its retry opens a new connection.
    Seen under load with the probe's and the SLO fills' threads on one broker connection:
    three new connections in a second, where OANDA allows two. With no queued request in
    the pool, nothing is assigned before it is used.
    """

    def __init__(self, connections: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.turns = threading.BoundedSemaphore(connections)


class _Transport(httpx.HTTPTransport):
    """httpx's transport over a pool whose sockets honour the call's deadline."""

    def __init__(self, ssl_context: ssl.SSLContext | None, max_connections: int) -> None:
        # No super().__init__(): it would build an SSL context even for http://.
        # With ssl_context None, httpcore builds one only if a TLS connection is opened,
        # which a client of an http:// URL (that follows no redirect) never does.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=KEEPALIVE_S,
            network_backend=_DeadlineBackend(),
        )


def _left(exc: type[Exception], timeout: float | None) -> float | None:
    """The smaller of a socket operation's own timeout and what is left of the call."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(httpcore.ReadTimeout, timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(httpcore.WriteTimeout, timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        wrapped = self._inner.start_tls(
            ssl_context, server_hostname, _left(httpcore.ConnectTimeout, timeout)
        )
        return _DeadlineStream(wrapped)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        inner = super().connect_tcp(
            host, port, _left(httpcore.ConnectTimeout, timeout), local_address, socket_options
        )
        return _DeadlineStream(inner)


# -- one GET -------------------------------------------------------------------------


class Failure(Exception):
    """A GET that got no usable answer; `kind`: timeout, refused, unreachable, too_big.

    `transient` failures (a timeout, a reset connection) may be tried once more.
    """

    def __init__(self, kind: str, detail: str, *, transient: bool = False) -> None:
        super().__init__(scrub(detail))
        self.kind = kind
        self.detail = str(self)
        self.transient = transient


@dataclass
class Answer:
    """A whole HTTP answer, read within the deadline and the size cap."""

    status: int
    headers: httpx.Headers
    body: bytes
    retries: int = 0
    retried_for: list[str] = field(default_factory=list)
    latency_ms: float = 0.0

    def header(self, name: str) -> str | None:
        """A header's value, scrubbed (a server may put the token anywhere)."""
        value = self.headers.get(name)
        return None if value is None else scrub(value)

    def text(self, limit: int = 160) -> str:
        """The body's start as one scrubbed line, for an error message."""
        flat = " ".join(self.body[: limit * 4].decode("utf-8", "replace").split())
        flat = scrub(flat)
        return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@contextmanager
def _deadline(at: float) -> Iterator[None]:
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def fetch(
    client: httpx.Client,
    target: str,
    *,
    deadline: float,
    max_bytes: int,
    params: dict[str, str] | None = None,
    pace: Pace | None = None,
) -> Answer:
    """One GET that ends by `deadline` (time.monotonic()), its body at most `max_bytes`."""
    if pace is not None:
        pace.wait(deadline)
    left = deadline - time.monotonic()
    if left <= 0:
        raise Failure("timeout", "no time left in the call's budget", transient=True)
    turns = getattr(client, "turns", None)  # new_client's clients; a test's may have none
    if turns is not None and not turns.acquire(timeout=left):
        # What the pool said when it held the queue: the broker answered no one in time.
        raise Failure("timeout", "no whole answer in time", transient=True)
    try:
        return _get(client, target, deadline, max_bytes, params)
    finally:
        if turns is not None:
            turns.release()


def _get(
    client: httpx.Client,
    target: str,
    deadline: float,
    max_bytes: int,
    params: dict[str, str] | None,
) -> Answer:
    left = max(deadline - time.monotonic(), 0.001)
    try:
        with _deadline(deadline), client.stream("GET", target, params=params, timeout=left) as r:
            declared = r.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise Failure("too_big", _too_big(int(declared), max_bytes, "declares"))
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise Failure("too_big", _too_big(size, max_bytes, "sent more than"))
                if time.monotonic() > deadline:
                    raise Failure("timeout", "the answer was still arriving", transient=True)
                chunks.append(chunk)
            return Answer(r.status_code, r.headers, b"".join(chunks))
    except httpx.TimeoutException as exc:
        raise Failure("timeout", _timeout_detail(exc), transient=True) from None
    except httpx.ConnectError as exc:
        if "refused" in str(exc).lower():
            raise Failure("refused", "the connection was refused") from None
        raise Failure("unreachable", f"cannot connect ({exc})") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        detail = f"the connection failed ({type(exc).__name__}: {exc})"
        raise Failure("unreachable", detail, transient=True) from None
    except httpx.HTTPError as exc:  # DecodingError (bad gzip), UnsupportedProtocol, ...
        raise Failure("unreachable", f"{type(exc).__name__}: {exc}") from None


def fetch_once_more(
    client: httpx.Client,
    target: str,
    *,
    deadline: float,
    budget_s: float,
    max_bytes: int,
    params: dict[str, str] | None = None,
    pace: Pace | None = None,
) -> Answer:
    """`fetch`, tried once more after a transient failure (a timeout, a reset, 502/503)
    when at least a quarter of the budget is left; the answer counts the retry."""
    retried_for: list[str] = []
    for attempt in (1, 2):
        try:
            answer = fetch(
                client, target, deadline=deadline, max_bytes=max_bytes, params=params, pace=pace
            )
        except Failure as exc:
            last = attempt == 2 or deadline - time.monotonic() < budget_s / 4
            if last or not exc.transient:
                if retried_for:
                    exc.detail = f"{exc.detail} (after 1 retry, first: {retried_for[0]})"
                raise
            retried_for.append(exc.kind)
            continue
        last = attempt == 2 or deadline - time.monotonic() < budget_s / 4
        if answer.status in TRANSIENT_STATUS and not last:
            retried_for.append(f"HTTP {answer.status}")
            continue
        answer.retries, answer.retried_for = len(retried_for), retried_for
        return answer
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _too_big(size: int, cap: int, verb: str) -> str:
    return f"the answer {verb} {size:,} bytes, above max_answer_mb ({cap / 1e6:g} MB); refused"


def _timeout_detail(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "could not connect in time"
    return "no whole answer in time"


# -- JSON ----------------------------------------------------------------------------


class BadJson(ValueError):
    """An answer that is not JSON the suite will read; the message says why."""


def decode_json(body: bytes) -> Any:
    """The decoded answer; NaN/Infinity decode to floats, which the field readers refuse.

    Its depth is measured on the decoded value, a level at a time (the parser itself
    refuses a text nested past Python's recursion limit): a fills page's text scanned
    bracket by bracket cost nearly twice its decoding.
    """
    try:
        value = json.loads(body)
    except RecursionError:
        raise BadJson(f"the answer nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a 5000-digit integer
        raise BadJson(f"the answer is not JSON ({scrub(str(exc))[:120]})") from None
    if _deeper_than(value, MAX_DEPTH):
        raise BadJson(f"the answer nests deeper than {MAX_DEPTH} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether a decoded JSON value nests more than `limit` arrays and objects deep."""
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        inner = []
        for container in level:
            items = container.values() if type(container) is dict else container
            inner += [v for v in items if type(v) is dict or type(v) is list]
        level = inner
    return False
