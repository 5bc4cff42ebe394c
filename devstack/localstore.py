"""A DynamoDB-compatible endpoint on loopback for development and tests: moto's server,
answering one request at a time, DynamoDB and DynamoDB Streams on the same port.

Real DynamoDB applies each conditional write atomically. moto's backend takes no lock, so
two conditional writes served on two threads could both pass their condition; serialising
requests gives moto the guarantee that the code (and its concurrency tests) rely on.

    python -m devstack.localstore [--host 127.0.0.1] [--port 8001]   (port 0: any free one)
"""

import argparse
import logging
import sys
import threading

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


# moto keeps every shard iterator it hands out, and GetRecords hands out a new one each call:
# a reader polling twice a second would grow the store by megabytes an hour. Iterators
# expire after 15 minutes on AWS; here the oldest are forgotten past this many, and using
# one answers ExpiredIteratorException as AWS does (the reader then asks for a new one).
MAX_SHARD_ITERATORS = 1000


class BoundedIterators(dict):
    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        while len(self) > MAX_SHARD_ITERATORS:
            del self[next(iter(self))]

    def __missing__(self, key):
        from moto.core.exceptions import JsonRESTError

        raise JsonRESTError("ExpiredIteratorException", "Iterator expired: get a new one with GetShardIterator")


def bound_shard_iterators() -> None:
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original = DynamoDBStreamsBackend.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.shard_iterators = BoundedIterators()

    DynamoDBStreamsBackend.__init__ = __init__


def transactions_undo_in_place() -> None:
    """moto backs up every table a transaction names (copy.deepcopy of the whole table)
    before it starts, and puts the copies in place if the transaction is canceled. That
    costs time in proportion to the table's size on every transaction, and the copy brings
    its own stream shard: readers, whose iterators hold the old shard, never see another
    record, and the canceled transaction's records stay in what they read. Here a
    transaction saves only the items it names; if it is canceled they are put back, and
    the stream records it wrote are dropped, in place."""
    import copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class TablesNotCopied:
        """moto.dynamodb.models' `copy`, except that a Table is not copied: only the backup
        above copies tables."""

        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = TablesNotCopied()
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        saved, stream_lengths = [], {}
        for entry in transact_items:
            op = next(iter(entry.values())) if isinstance(entry, dict) and entry else {}
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            attributes = (op.get("Key") or op.get("Item")) if table is not None else None
            if not attributes or table.hash_key_attr not in attributes:
                continue
            if table.range_key_attr and table.range_key_attr not in attributes:
                continue
            try:
                hash_value = DynamoType(attributes[table.hash_key_attr])
                range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
                before = copy.deepcopy(table.get_item(hash_value, range_value))
            except Exception:  # a key of the wrong type: moto refuses the transaction itself
                continue
            saved.append((table, hash_value, range_value, before))
            if table.stream_shard is not None:
                stream_lengths.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                holder = table.items[hash_value] if range_value is not None else table.items
                key = range_value if range_value is not None else hash_value
                if item is None:
                    holder.pop(key, None)
                else:
                    holder[key] = item
                if range_value is not None and not table.items[hash_value]:
                    del table.items[hash_value]
            for shard, length in stream_lengths.values():
                del shard.items[length:]
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


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
    bound_shard_iterators()
    transactions_undo_in_place()
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
