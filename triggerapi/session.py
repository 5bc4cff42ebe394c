"""One botocore session for every table's client.

PynamoDB gives each model's connection a botocore session of its own, per thread, and a
session loads DynamoDB's API description and the endpoint rules (JSON, about 60 ms) the first
time it makes a client: with 16 tables, the first request of a new instance paid that for
each table it touched (about 250 ms of an ingest's 460), and a SnapStart init for all of them
(about 1 s). Every model's connection gets this one instead (`pynamodb.connection.base`
calls `get_session` for it: the one name replaced), so the description is loaded once per
process and each further client costs about 3 ms. botocore's sessions are not safe to share
between threads (the clients they make are), so what a connection asks of it goes through
a lock. It is made at the first ask, after whatever patches botocore's handlers (moto in the
tests) has been imported.
"""

import threading

import botocore.session
import pynamodb.connection.base


class SharedSession:
    def __init__(self):
        self._lock = threading.Lock()
        self._session: botocore.session.Session | None = None

    @property
    def session(self) -> botocore.session.Session:
        with self._lock:
            if self._session is None:
                self._session = botocore.session.get_session()
            return self._session

    def create_client(self, *args, **kwargs):
        session = self.session
        with self._lock:
            return session.create_client(*args, **kwargs)

    def set_credentials(self, *args) -> None:
        session = self.session
        with self._lock:
            session.set_credentials(*args)

    def __getattr__(self, name):
        return getattr(self.session, name)


SHARED = SharedSession()


def shared() -> SharedSession:
    return SHARED


pynamodb.connection.base.get_session = shared
