"""Output serializers bind their fields once per class (triggerapi.serializers.Output): they
must render exactly what DRF's own per-instance fields render, each instance its own
object, from any number of threads, and refuse to validate."""

import copy
from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework import serializers

from events.ids import new_event_ids
from events.lifecycle import new_event
from events.serializers import EventSerializer, LeasedEventSerializer, ReceiptSerializer
from hooks.serializers import HookPageSerializer
from triggerapi.pagination import Page
from triggerapi.serializers import Output


def plain(output_class: type[Output]) -> type[serializers.Serializer]:
    """The same fields and methods on DRF's own Serializer: fields copied per instance."""
    methods = {name: getattr(output_class, name) for name in dir(output_class) if name.startswith("get_")}
    methods.pop("get_fields", None)
    return type(
        f"Plain{output_class.__name__}",
        (serializers.Serializer,),
        {**copy.deepcopy(output_class._declared_fields), **methods},
    )


def events(count: int) -> list:
    made = [
        new_event("acme", event_id, {"event_type": f"t.{n}", "n": n, "nested": {"list": [n, None, "x"]}})
        for n, event_id in enumerate(new_event_ids(count))
    ]
    made[0].status, made[0].lease_expires_at, made[0].lease_id = "undelivered", 1_700_000_000_000, "lease-1"
    made[-1].status, made[-1].delivered_at = "delivered", 1_700_000_000_500
    return made


@pytest.mark.parametrize("output_class", [EventSerializer, LeasedEventSerializer])
def test_an_output_serializer_renders_what_drfs_own_fields_render(output_class):
    for event in events(5):
        assert output_class(event).data == plain(output_class)(event).data


def test_each_instance_renders_its_own_object():
    first, second = events(2)
    assert EventSerializer(first).data["id"] == first.event_id
    assert EventSerializer(second).data["id"] == second.event_id
    receipts = [{"id": f"e{n}", "created_at": n, "status": "undelivered"} for n in range(3)]
    assert [ReceiptSerializer(receipt).data for receipt in receipts] == receipts


def test_fields_are_bound_once_per_class_and_not_shared_with_a_subclass():
    assert EventSerializer(None).fields is EventSerializer(None).fields
    assert LeasedEventSerializer(None).fields is not EventSerializer(None).fields
    assert "lease_id" in LeasedEventSerializer(None).fields
    assert "lease_id" not in EventSerializer(None).fields


def test_a_page_renders_its_items_under_its_own_name():
    page = Page(items=[], next_cursor=None, has_more=False)
    assert HookPageSerializer(page).data == {"hooks": [], "next_cursor": None, "has_more": False}


def test_many_threads_render_their_own_events():
    made = events(200)
    with ThreadPoolExecutor(8) as pool:
        rendered = list(pool.map(lambda event: EventSerializer(event).data, made))
    assert [body["id"] for body in rendered] == [event.event_id for event in made]
    assert [body["payload"]["n"] for body in rendered] == list(range(200))


def test_an_output_serializer_refuses_to_validate():
    with pytest.raises(TypeError, match="renders responses"):
        EventSerializer(data={"id": "x"}).is_valid()
