"""The client's own behaviour, against stand-in servers on loopback: a request that never
connected, and a 503 that applied nothing repeated after its Retry-After."""

import http.server
import socket
import threading

import pytest

from triggerapi_client import Client, ServiceUnavailable, TransportError


def test_a_server_that_cannot_be_reached_is_a_transport_error_that_was_never_sent():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

    with pytest.raises(TransportError) as error, Client(f"http://127.0.0.1:{port}", "k", retries=0) as client:
        client.create_event({"n": 1})

    assert error.value.sent is False


class Flaky(http.server.BaseHTTPRequestHandler):
    """503 with Retry-After: 0 for the first two requests, then 201."""

    answers: list[int] = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        status = 503 if len(self.answers) < 2 else 201
        self.answers.append(status)
        body = (
            b'{"error": {"code": "service_unavailable", "message": "busy", "details": {"write": "not_applied"}}}'
            if status == 503
            else b'{"id": "evt_x", "created_at": 1, "status": "undelivered"}'
        )
        self.send_response(status)
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("retries,expected", [(3, [503, 503, 201]), (1, [503, 503])])
def test_a_503_that_applied_nothing_is_retried_after_its_retry_after(retries, expected):
    Flaky.answers = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with Client(f"http://127.0.0.1:{server.server_port}", "k", retries=retries) as client:
            if expected[-1] == 201:
                assert client.create_event({"n": 1}).id == "evt_x"
            else:
                with pytest.raises(ServiceUnavailable) as error:
                    client.create_event({"n": 1})
                assert (error.value.write, error.value.retry_after) == ("not_applied", 0.0)
    finally:
        server.shutdown()

    assert Flaky.answers == expected
