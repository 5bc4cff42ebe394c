import ipaddress
import socket

import pytest

from tests.hooks.receiver import Receiver

PUBLIC = "93.184.216.34"


def answers(*addresses: str, port: int = 443) -> list[tuple]:
    """What socket.getaddrinfo returns for a name with these addresses."""
    result = []
    for address in addresses:
        if ipaddress.ip_address(address).version == 6:
            result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
        else:
            result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
    return result


class Resolver:
    """Stands in for socket.getaddrinfo: each call takes the next answer (the last one
    repeats), and `calls` lists the names asked for."""

    def __init__(self, *answers: list[tuple] | Exception):
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.calls.append(host)
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def resolve(monkeypatch):
    """`resolve(*answers)` makes every name resolve as told, call after call."""

    def install(*script: list[tuple] | Exception) -> Resolver:
        resolver = Resolver(*script)
        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        return resolver

    return install


@pytest.fixture
def local_targets(settings):
    """Receivers here are plain http on loopback, which only these settings allow."""
    settings.HOOKS_ALLOW_HTTP = True
    settings.HOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.HOOKS_TIMEOUT_SECONDS = 5.0
    return settings


@pytest.fixture
def receiver(local_targets):
    with Receiver() as running:
        yield running


@pytest.fixture(autouse=True)
def store():
    """A delivery attempt touches no store: these tests skip the tables the others get."""
    yield None
