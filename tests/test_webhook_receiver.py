"""scripts/webhook_receiver.py, the README's demo receiver: 200 to what it verifies, 401 to a
signature it refuses (a 200 would tell triggerapi the delivery succeeded), and a --help
that says all of that."""

import http.client
import io
import json
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from scripts.webhook_receiver import make_server

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "webhook_receiver.py"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = json.dumps({"id": "evt_01M8MSWFYNKQPV0YZG3QCAWH60", "payload": {"event_type": "order.paid"}})


@pytest.fixture
def receiver():
    """The receiver on a free loopback port, with SECRET; yields (port, what it printed)."""
    out = io.StringIO()
    server = make_server("127.0.0.1", 0, SECRET, out)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server.server_port, out
    server.shutdown()
    server.server_close()


def post(port: int, secret: str) -> int:
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "evt_01M8MSWFYNKQPV0YZG3QCAWH60",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("evt_01M8MSWFYNKQPV0YZG3QCAWH60", now, BODY),
        "Content-Type": "application/json",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/hook", body=BODY.encode(), headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_verified_signature_is_answered_200(receiver):
    port, out = receiver

    assert post(port, SECRET) == 200
    assert "webhook-id: evt_01M8MSWFYNKQPV0YZG3QCAWH60  signature: verified" in out.getvalue()


def test_a_refused_signature_is_answered_401_and_says_so(receiver):
    port, out = receiver

    assert post(port, "whsec_" + "c2VjcmV0LW9mLWFub3RoZXItaG9vayEhISEhISE=") == 401
    assert "signature: REFUSED" in out.getvalue()
    assert "answered 401" in out.getvalue()


def test_help_describes_the_receiver_whole():
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "answers 200." in text
    assert "answers 401 to a request whose signature it refuses" in text


def test_a_busy_port_is_one_line_and_exit_status_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "--port", str(port)], capture_output=True, text=True, timeout=30
        )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"webhook_receiver: cannot listen on 127.0.0.1:{port} (Address already in use): is another receiver "
        "still running? Stop it (kill $RECEIVER in the shell that started it) or pick another --port."
    ]
