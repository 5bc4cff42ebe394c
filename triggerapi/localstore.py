"""A DynamoDB-compatible endpoint on loopback for development and tests: moto's server,
answering one request at a time.

Real DynamoDB applies each conditional write atomically. moto's backend takes no lock, so
two conditional writes served on two threads could both pass their condition; serialising
requests gives moto the guarantee that the code (and its concurrency tests) rely on.

    python -m triggerapi.localstore [--host 127.0.0.1] [--port 8001]   (port 0: any free one)
"""

import argparse
import logging
import sys
import threading


class Serialized:
    """WSGI middleware: one request inside the wrapped app at a time, body included."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class KeepAlive(MotoRequestHandler):
        protocol_version = "HTTP/1.1"

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Only DynamoDB: moto's multi-service dispatcher would match every request's host
    # against hundreds of services first.
    app = Serialized(create_backend_app("dynamodb"))
    server = make_server(args.host, args.port, app, threaded=True, request_handler=KeepAlive)
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
