"""devstack/localstore.py's HTTP server (KeptAlive): a client's requests share one
connection, the app sees each request's body and headers whatever it reads of them, and a
client that asks for the connection to close, or sends a body without a length, gets it
closed. Then a DynamoDB client through it, on moto's own apps."""

import http.client
import threading

import boto3
import pytest
from moto.moto_server.werkzeug_app import create_backend_app

from devstack import localstore


class Counted(localstore.Server):
    """The server, counting the connections it accepted."""

    accepted = 0

    def process_request(self, request, client_address):
        self.accepted += 1
        super().process_request(request, client_address)


@pytest.fixture
def serve():
    servers = []

    def start(app) -> Counted:
        server = Counted(("127.0.0.1", 0), app)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def echo(seen: list, *, read_body: bool = True):
    def app(environ, start_response):
        body = environ["wsgi.input"].read() if read_body else b""
        seen.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Path", environ["PATH_INFO"])])
        return [b"got ", body]

    return app


def test_two_requests_share_one_connection_and_the_app_sees_each_whole(serve):
    seen: list = []
    server = serve(echo(seen))
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port)

    answers = []
    for n in (1, 2):
        connection.request("POST", f"/p{n}?q={n}", body=f'{{"n": {n}}}', headers={"X-Amz-Target": f"T.Op{n}"})
        response = connection.getresponse()
        answers.append((response.status, response.getheader("X-Path"), response.read(), response.will_close))

    assert answers == [(200, "/p1", b'got {"n": 1}', False), (200, "/p2", b'got {"n": 2}', False)]
    assert server.accepted == 1
    assert [(e["QUERY_STRING"], e["HTTP_X_AMZ_TARGET"], e["CONTENT_LENGTH"]) for e in seen] == [
        ("q=1", "T.Op1", "8"),
        ("q=2", "T.Op2", "8"),
    ]
    assert seen[0]["REMOTE_PORT"] == seen[1]["REMOTE_PORT"]


def test_a_body_the_app_leaves_unread_does_not_reach_the_next_request(serve):
    seen: list = []
    server = serve(echo(seen, read_body=False))
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port)

    statuses = []
    for path in ("/first", "/second"):
        connection.request("POST", path, body="x" * 10_000)
        response = connection.getresponse()
        statuses.append((response.status, response.getheader("X-Path"), response.read()))

    assert statuses == [(200, "/first", b"got "), (200, "/second", b"got ")]
    assert server.accepted == 1


def test_a_client_asking_to_close_gets_its_answer_then_the_connection_closed(serve):
    server = serve(echo([]))
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port)

    connection.request("POST", "/", body="{}", headers={"Connection": "close"})
    response = connection.getresponse()

    assert (response.status, response.read(), response.will_close) == (200, b"got {}", True)


def test_a_chunked_body_is_refused_with_411_and_the_connection_closed(serve):
    seen: list = []
    server = serve(echo(seen))
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port)

    connection.request("POST", "/", body=iter([b"{}"]), encode_chunked=True)
    response = connection.getresponse()

    assert (response.status, response.will_close, seen) == (411, True, [])


def test_a_dynamodb_clients_calls_go_over_one_connection(serve):
    app = localstore.Serialized(
        localstore.ByTarget(create_backend_app("dynamodb"), create_backend_app("dynamodbstreams"))
    )
    server = serve(app)
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{server.server_port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )

    listed = [client.list_tables(Limit=1)["ResponseMetadata"]["HTTPStatusCode"] for _ in range(5)]
    streams = boto3.client(
        "dynamodbstreams",
        endpoint_url=f"http://127.0.0.1:{server.server_port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    ).list_streams(TableName="none-here")

    assert listed == [200] * 5
    assert streams["Streams"] == []
    assert server.accepted == 2  # one a client
