"""A TCP proxy in front of the local store that misbehaves on demand, over real sockets:
the app under test sees exactly what a network and a failing DynamoDB would show it.

`policy(operation)` is asked for every request (the operation is the X-Amz-Target's action,
e.g. "PutItem") and answers None (pass it through) or one of:
  throttled, error_500   the store answers with that error, applying nothing
  reset                  the connection is reset before the store sees the request
  lost                   the store applies the request, then the connection is reset
  hang                   nothing answers (the client's read timeout ends it)
  refused                the store goes away: this connection is reset and new ones are
                         refused for `down_seconds`
"""

import json
import socket
import struct
import threading
import time
from collections.abc import Callable

JSON_ERRORS = {
    "throttled": (400, "ProvisionedThroughputExceededException"),
    "error_500": (500, "InternalServerError"),
}


def _read_message(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """One HTTP/1.1 message with a Content-Length body (botocore and moto send one)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head_end = buffer.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buffer[:head_end]).split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buffer) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    message = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return message


def _operation(request: bytes) -> str:
    for line in request.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-amz-target":
            return value.strip().decode().rsplit(".", 1)[-1]
    return ""


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a crashed peer or a dropped connection looks to the client."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _error_response(kind: str) -> bytes:
    status, code = JSON_ERRORS[kind]
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}).encode()
    return (
        f"HTTP/1.1 {status} Error\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"x-amzn-RequestId: injected\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class StoreProxy:
    def __init__(self, upstream_url: str, policy: Callable[[str], str | None] = lambda op: None):
        host, port = upstream_url.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.policy = policy
        self.down_seconds = 0.2
        self.counts: dict[str, int] = {}
        # Called with (operation, request body, the store's answer) for every request passed on.
        self.observe: Callable[[str, bytes, bytes], None] | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._clients: set[socket.socket] = set()
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(0.05)
        return listener

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                time.sleep(0.01)
                continue
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            client.settimeout(None)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def go_down(self, seconds: float | None = None) -> None:
        """Nothing listens for a while (connecting is refused, as to a store that is gone),
        and the connections open now are closed."""
        with self._lock:
            listener, self._listener = self._listener, None
            clients, self._clients = self._clients, set()
        for client in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if listener is not None:
            # shutdown stops the listening at once, even while accept() waits on another thread.
            listener.shutdown(socket.SHUT_RDWR)
            listener.close()
            timer = threading.Timer(self.down_seconds if seconds is None else seconds, self.come_back)
            timer.daemon = True
            timer.start()

    def come_back(self) -> None:
        with self._lock:
            if not self._stopped.is_set() and self._listener is None:
                self._listener = self._listen(self.port)

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._clients.add(client)
        buffer = bytearray()
        try:
            while (request := _read_message(client, buffer)) is not None:
                if not self._relay(client, request):
                    return
        except OSError:
            pass
        finally:
            with self._lock:
                self._clients.discard(client)
            client.close()

    def _forward(self, request: bytes) -> bytes | None:
        """The store's answer; a connection each, as the store closes each after answering."""
        with socket.create_connection(self.upstream) as upstream:
            upstream.sendall(request)
            return _read_message(upstream, bytearray())

    def _relay(self, client: socket.socket, request: bytes) -> bool:
        """Handles one request; False once the client connection is gone."""
        kind = self.policy(_operation(request))
        with self._lock:
            self.counts[kind or "ok"] = self.counts.get(kind or "ok", 0) + 1
        if kind in JSON_ERRORS:
            client.sendall(_error_response(kind))
            return True
        if kind == "hang":
            while client.recv(65536):  # until the client gives up and closes
                pass
            return False
        if kind in ("reset", "refused"):
            if kind == "refused":
                self.go_down()
            _reset(client)
            return False
        response = self._forward(request)
        if self.observe is not None and response is not None:
            self.observe(_operation(request), request.split(b"\r\n\r\n", 1)[1], response.split(b"\r\n\r\n", 1)[1])
        if kind == "lost" or response is None:
            _reset(client)
            return False
        client.sendall(response)
        return b"connection: close" not in response.split(b"\r\n\r\n", 1)[0].lower()

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            if self._listener is not None:
                self._listener.close()
