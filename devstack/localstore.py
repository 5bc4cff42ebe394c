"""A DynamoDB-compatible endpoint on loopback for development and tests: moto's server,
answering one request at a time, DynamoDB and DynamoDB Streams on the same port.

Real DynamoDB applies each conditional write atomically. moto's backend takes no lock, so
two conditional writes served on two threads could both pass their condition; serialising
requests gives moto the guarantee that the code (and its concurrency tests) rely on. Where
moto's DynamoDB differs from DynamoDB otherwise, devstack/moto_patches.py patches it (for
the one moto version it was written for).

    python -m devstack.localstore [--host 127.0.0.1] [--port 8001]   (port 0: any free one)
"""

import argparse
import logging
import sys
import threading

from devstack import moto_patches

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    try:
        moto_patches.apply()
    except moto_patches.UnsupportedMoto as exc:
        sys.exit(f"devstack.localstore: {exc}")

    from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class KeepAlive(MotoRequestHandler):
        protocol_version = "HTTP/1.1"

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Only DynamoDB and its streams, behind one lock: a stream read never sees half a write.
    app = Serialized(ByTarget(create_backend_app("dynamodb"), create_backend_app("dynamodbstreams")))
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
