import itertools

import pytest

from devstack import moto_patches
from devstack.stream.reader import StreamReader
from hooks import handler


class Pump:
    """The events table's stream (moto's, in process) handed to the stream function, as
    `run_deliveries` does: `pump()` hands on everything written since the last pump.
    `handed` keeps every batch, to hand one over again."""

    def __init__(self):
        self.handed: list[dict] = []
        self.reader = StreamReader(handler=self._handle, clock=itertools.count(0, 100).__next__)
        self.reader.open()

    def _handle(self, event: dict) -> dict:
        self.handed.append(event)
        return handler.handle_stream(event)

    def __call__(self) -> int:
        records = 0
        while batches := self.reader.poll():
            records += sum(batch.records for batch in batches)
        return records


@pytest.fixture
def pump():
    # The stream function writes tenants' counts side by side: moto as the local store runs it.
    with moto_patches.applied():
        yield Pump()
