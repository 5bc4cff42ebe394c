"""Every table's client from one botocore session (triggerapi/session.py): DynamoDB's API
description is loaded once for all of them, and clients made on many threads at once work."""

import threading

import botocore.loaders
import pytest

from triggerapi import session, store
from triggerapi.tables import all_models


@pytest.fixture
def fresh(monkeypatch):
    """No session made yet, no table's client made yet (both put back afterwards)."""
    monkeypatch.setattr(session.SHARED, "_session", None)
    for model in all_models():
        monkeypatch.setattr(model, "_connection", None)


def test_the_tables_clients_load_dynamodbs_api_once(fresh, monkeypatch):
    loaded = []
    load = botocore.loaders.JSONFileLoader.load_file
    monkeypatch.setattr(
        botocore.loaders.JSONFileLoader, "load_file", lambda self, path: (loaded.append(path), load(self, path))[1]
    )

    clients = [store.client(model) for model in all_models()]

    assert len({id(client) for client in clients}) == len(all_models()) > 10
    assert len([path for path in loaded if path.endswith("dynamodb/2012-08-10/service-2")]) == 1
    assert {id(model._get_connection().connection.session) for model in all_models()} == {id(session.SHARED)}


def test_clients_made_on_eight_threads_at_once_each_serve_their_table(fresh):
    """Eight threads make the tables' clients at once from the one session (PynamoDB's own
    first use may make a table's connection twice when two threads race to it: the last one
    stays), and each answers for its table."""
    start = threading.Barrier(8)
    counted: list = []
    failed: list = []

    def make(n: int) -> None:
        start.wait()
        try:
            for model in all_models()[n % 2 :: 2]:
                table = store.client(model).describe_table(TableName=model.Meta.table_name)["Table"]
                counted.append(table["TableName"])
        except Exception as exc:  # noqa: BLE001  (reported below)
            failed.append(exc)

    threads = [threading.Thread(target=make, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failed == []
    assert sorted(counted) == sorted(4 * [model.Meta.table_name for model in all_models()])
