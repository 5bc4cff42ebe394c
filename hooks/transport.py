"""One POST to a checked target, over a connection to an address that was checked.

Why not `requests`: it resolves the host name itself when it connects, so a name that
answered with a public address at the check could answer 169.254.169.254 a moment later
(DNS rebinding). Pinning requests to an address means a transport adapter, urllib3 pool
keys and a hand-set Host header. The standard library does each piece plainly:

- `socket` connects to each checked address in turn (no name is looked up here);
- `ssl.SSLContext.wrap_socket(server_hostname=host)` sends SNI for the host name and, with
  `check_hostname` and CERT_REQUIRED, verifies the certificate for that name (certifi's
  CAs, as `requests` uses), not for the address we dialled;
- `http.client` writes the request and parses the answer on that socket, with `Host` from
  the URL. It never follows redirects, and it cannot dial by name (`connect` refuses).

The timeout covers the whole attempt: each step gets what is left of it, and a watchdog
shuts the socket down at the deadline, so a server that drips its handshake, headers or
body a byte at a time cannot stretch the attempt either.
"""

import functools
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

import certifi

from hooks.addresses import IPAddress, Target

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Response:
    """What came back: a status and at most MAX_BODY_BYTES of body, or an error when no
    HTTP answer came. A body that is longer, or still arriving at the deadline, is cut."""

    status_code: int | None
    retry_after: str | None
    body: bytes
    error: str | None


class AttemptTimedOut(Exception):
    """The attempt's deadline passed; whatever failed then failed because of it."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """certifi's CAs, as `requests` uses; built once, shared by every attempt's thread."""
    return ssl.create_default_context(cafile=certifi.where())


def post(
    target: Target, *, body: bytes, headers: dict[str, str], timeout: float, tls: ssl.SSLContext | None = None
) -> Response:
    """POSTs `body` to `target`; never raises for what the network or the server does."""
    deadline = time.monotonic() + timeout
    try:
        sock = _connect_any(target, deadline)
    except AttemptTimedOut:
        return _failure("timed out")
    except OSError as error:
        return _failure(_describe(error))
    watchdog = Watchdog(sock, deadline)
    try:
        if target.scheme == "https":
            sock = (tls or tls_context()).wrap_socket(sock, server_hostname=target.host)
        return _exchange(sock, target, body, headers, watchdog)
    except AttemptTimedOut:
        return _failure("timed out")
    except (OSError, http.client.HTTPException) as error:
        return _failure("timed out" if watchdog.fired else _describe(error))
    finally:
        watchdog.stop()
        sock.close()


def open_socket(address: IPAddress, port: int, timeout: float) -> socket.socket:
    """A TCP connection to one address (a module function so tests can watch it)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((str(address), port))
    except BaseException:
        sock.close()
        raise
    return sock


def _connect_any(target: Target, deadline: float) -> socket.socket:
    """The first of the checked addresses, in the resolver's order, that accepts."""
    error: OSError = ConnectionError("no address to connect to")
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return open_socket(address, target.port, remaining)
        except OSError as failure:
            error = failure
    if time.monotonic() >= deadline:
        raise AttemptTimedOut
    raise error


def _exchange(
    sock: socket.socket, target: Target, body: bytes, headers: dict[str, str], watchdog: "Watchdog"
) -> Response:
    connection = PinnedConnection(target.host, target.port, sock)
    answer = None
    try:
        connection.request("POST", target.request_target, body=body, headers={"Host": target.host_header, **headers})
        answer = connection.getresponse()
        if watchdog.fired:
            # Cut off mid-headers, http.client takes the end of input for their end.
            raise AttemptTimedOut
        return Response(answer.status, answer.getheader("Retry-After"), _read_capped(answer), error=None)
    finally:
        # The answer holds the socket open through its file until it is closed itself.
        if answer is not None:
            answer.close()
        connection.close()


def _read_capped(answer: http.client.HTTPResponse) -> bytes:
    """At most MAX_BODY_BYTES, streamed; the rest is never read. Once the status is in,
    the body is only for the record, so a body cut short is not an error."""
    chunks, size = [], 0
    try:
        while size < MAX_BODY_BYTES:
            chunk = answer.read(MAX_BODY_BYTES - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, http.client.HTTPException):
        pass
    return b"".join(chunks)


class PinnedConnection(http.client.HTTPConnection):
    """http.client on a socket we opened to a checked address. If it ever wanted another
    connection it would dial the name, so `connect` refuses instead."""

    def __init__(self, host: str, port: int, sock: socket.socket):
        super().__init__(host, port)
        self.sock = sock

    def connect(self):
        raise ConnectionError("a webhook connection is opened to a checked address only")


class Watchdog:
    """Shuts the connection down at the deadline, whatever step it is in. It holds a
    duplicate of the socket: shutdown acts on the connection, not the descriptor, and the
    duplicate stays valid while `ssl` takes the original over."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.fired = False
        self._sock: socket.socket | None = sock.dup()
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._sock is not None:
                self.fired = True
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _failure(message: str) -> Response:
    return Response(status_code=None, retry_after=None, body=b"", error=message)


def _describe(error: BaseException) -> str:
    """A short message for the delivery's `last_error`, naming the kind of failure."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS error: {error.verify_message or 'certificate verification failed'}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {error.reason or error}"
    if isinstance(error, http.client.RemoteDisconnected):
        return "connection closed without a response"
    if isinstance(error, http.client.HTTPException):
        return f"invalid HTTP response: {type(error).__name__}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"connection error: {error.strerror or error}"
