"""A webhook receiver for the tests: a threaded HTTP server on a loopback address that
records every request and answers as the test says."""

import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # When it arrived (time.monotonic()), for latencies measured against a send time.
    at: float = field(default_factory=time.monotonic)


class Receiver:
    """`answer(handler)` writes the response; `requests` is what arrived, recorded before
    the answer starts; `sni` the server names TLS clients asked for. `released` lets
    answers that hang or drip end at teardown."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
        self.requests: list[Received] = []
        self.sni: list[str | None] = []
        self.answer: Callable[[BaseHTTPRequestHandler], None] = status(200, body=b"ok")
        self.released = threading.Event()
        # Requests being answered now, and the most there have been at once, by path.
        self.open: Counter = Counter()
        self.most_open: Counter = Counter()
        self._lock = threading.Lock()
        server = _IPv6Server if ":" in host else ThreadingHTTPServer
        self.server = server((host, port), _handler_for(self))
        self.server.daemon_threads = True
        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: self.sni.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.host, self.port = host, self.server.server_address[1]
        # A short poll keeps shutdown() at teardown quick.
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str = "/", host: str | None = None, scheme: str = "http") -> str:
        host = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.requests.append(Received(self.command, self.path, headers, body))
            with receiver._lock:
                receiver.open[self.path] += 1
                receiver.most_open[self.path] = max(receiver.most_open[self.path], receiver.open[self.path])
            try:
                receiver.answer(self)
            except OSError:
                pass  # the client hung up, as it does after 64 KiB or at its deadline
            finally:
                with receiver._lock:
                    receiver.open[self.path] -= 1
            self.close_connection = True

        def log_message(self, format, *args):
            pass

    return Handler


def status(code: int, body: bytes = b"", **headers: str) -> Callable:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(code)
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def hang(receiver: Receiver) -> Callable:
    """Answers nothing until the test ends."""
    return lambda handler: receiver.released.wait()


def drip(receiver: Receiver, body: bool = False) -> Callable:
    """One header line (or, with `body`, one byte of body) every 50 ms for up to 5 s: a
    client without a deadline of its own would wait all that time."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n" + (b"Content-Length: 100\r\n\r\n" if body else b""))
        for _ in range(100):
            if receiver.released.wait(0.05):
                return
            handler.wfile.write(b"x" if body else b"X-Drip: 1\r\n")
        handler.wfile.write(b"" if body else b"Content-Length: 0\r\n\r\n")

    return answer


def hang_up(handler: BaseHTTPRequestHandler) -> None:
    """Closes the connection without a byte of answer."""
    handler.connection.shutdown(socket.SHUT_RDWR)


def huge(size: int) -> Callable:
    return status(200, body=b"x" * size)
