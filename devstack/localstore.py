"""A DynamoDB-compatible endpoint on loopback for development and tests: moto's server,
answering one request at a time, DynamoDB and DynamoDB Streams on the same port.

Real DynamoDB applies each conditional write atomically. moto's backend takes no lock, so
two conditional writes served on two threads could both pass their condition; serialising
requests gives moto the guarantee that the code (and its concurrency tests) rely on. Where
moto's DynamoDB differs from DynamoDB otherwise, devstack/moto_patches.py patches it (for
the one moto version it was written for).

It serves HTTP itself (KeptAlive), keeping each client's connection open between requests:
werkzeug's development server, which moto's own server uses, closes every connection after
one answer, so each store call paid a new connection, and the store a new thread for it.

    python -m devstack.localstore [--host 127.0.0.1] [--port 8001]   (port 0: any free one)
"""

import argparse
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from devstack import moto_patches
from triggerapi.wsgi_environ import wsgi_environ

STREAMS_TARGET_PREFIX = "DynamoDBStreams_"


class ByTarget:
    """WSGI: DynamoDB Streams requests (X-Amz-Target `DynamoDBStreams_20120810.*`) to moto's
    streams app, everything else to its DynamoDB app. Both apps share moto's in-memory
    backends, so the streams app reads the records of the tables the other one writes.

    moto's own multi-service dispatcher does the same from the request's signature and
    target, but it would match every request against hundreds of services first; and
    `create_backend_app` builds one service's routes only, so two apps are needed: both
    serve the path `/`."""

    def __init__(self, dynamodb, streams):
        self.dynamodb, self.streams = dynamodb, streams

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        app = self.streams if target.startswith(STREAMS_TARGET_PREFIX) else self.dynamodb
        return app(environ, start_response)


class Serialized:
    """WSGI middleware: one request inside the wrapped app at a time, body included."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


class KeptAlive(BaseHTTPRequestHandler):
    """HTTP/1.1 with connections kept open, for the one WSGI app of `server.app`. A request's
    body is read whole (by its Content-Length: DynamoDB's clients send no chunked bodies)
    before the app sees it, so the connection is at the next request's first line whatever
    the app reads; each answer is one write, sent at once (TCP_NODELAY: no wait for the
    client's delayed ACK)."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(HTTPStatus.LENGTH_REQUIRED)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer: list = []
        chunks = self.server.app(
            self._environ(body), lambda status, headers, exc_info=None: answer.extend([status, headers])
        )
        content = b"".join(chunks)
        status, headers = answer
        lines = [f"HTTP/1.1 {status}"]
        lines += [f"{name}: {value}" for name, value in headers if name.lower() != "content-length"]
        lines.append(f"Content-Length: {len(content)}")
        if self.close_connection:  # the client asked (Connection: close)
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + content)

    do_GET = do_POST

    def _environ(self, body: bytes) -> dict:
        return wsgi_environ(
            self.command,
            self.path,
            body,
            self.headers.items(),
            server=self.server.server_address[:2],
            remote=self.client_address[:2],
            protocol=self.request_version,
        )

    def log_message(self, format, *args):
        pass  # a line per request is noise; errors reach the client as answers


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, app):
        super().__init__(address, KeptAlive)
        self.app = app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    try:
        moto_patches.apply()
    except moto_patches.UnsupportedMoto as exc:
        sys.exit(f"devstack.localstore: {exc}")

    from moto.moto_server.werkzeug_app import create_backend_app

    # Only DynamoDB and its streams, behind one lock: a stream read never sees half a write.
    app = Serialized(ByTarget(create_backend_app("dynamodb"), create_backend_app("dynamodbstreams")))
    server = Server((args.host, args.port), app)
    # The first line is the contract with whoever started us (make run, the test fixtures).
    print(f"listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
