"""`manage.py stream_catch_up`: the events created while the events table's stream was being
switched (on neither stream) handed to the stream function again, safely."""

import io

import pytest
from django.core.management import call_command

from events.models import Event
from hooks.models import Delivery
from tests.activity.test_stats import events_of
from tests.hooks.api.deliveries_stored import sender, subscribe
from triggerapi.store import now_ms
from triggerapi.tables import StreamMismatch, tables_create


def catch_up(since: int, until: int) -> str:
    out = io.StringIO()
    call_command("stream_catch_up", "--since", str(since), "--until", str(until), stdout=out)
    return out.getvalue()


def test_events_no_stream_handed_over_get_their_deliveries_counts_and_history_once(
    acme, create_event, pump, monkeypatch
):
    hook_id = subscribe(sender(monkeypatch), "acme")
    before = create_event(acme)
    pump()
    since = now_ms()
    missed = [create_event(acme) for _ in range(3)]
    pump.reader.poll = lambda: []  # the switch: these records are on neither stream

    first = catch_up(since, now_ms() + 1)
    again = catch_up(0, now_ms() + 1)

    assert first.splitlines()[-1] == "Done. 3 events handed over."
    assert again.splitlines()[-1] == "Done. 4 events handed over."
    made = {d.event_id for d in Delivery.query(Delivery.pk_for("acme", hook_id))}
    assert made == {before, *missed}
    assert events_of(acme) == {"undelivered": 4, "failed": 0, "ingested": 4, "delivered": 0}
    assert [e["what"] for e in acme.get(f"/v1/events/{missed[0]}/history").json()["history"]] == ["ingested"]


def test_create_tables_refuses_to_replace_a_new_image_stream_and_says_how(monkeypatch):
    Event.delete_table()
    monkeypatch.setattr(Event.Meta, "stream_view_type", "NEW_IMAGE")
    Event.create_table(wait=True)
    monkeypatch.undo()

    with pytest.raises(StreamMismatch) as refused:
        tables_create()

    assert "has a NEW_IMAGE stream" in str(refused.value) and "stream_catch_up" in str(refused.value)
