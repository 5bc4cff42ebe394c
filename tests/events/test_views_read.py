import pytest
from django.test import override_settings

from events.models import Event
from tests.store_hooks import store_calls


def ids_of(response) -> list[str]:
    return [event["id"] for event in response.json()["events"]]


def walk(client, query: str, cursor: str | None = None) -> tuple[list[str], list[int]]:
    """Follow next_cursor to the end; returns every id seen and each page's size."""
    seen, sizes = [], []
    while True:
        response = client.get(f"/v1/events?{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.content
        body = response.json()
        seen += ids_of(response)
        sizes.append(len(body["events"]))
        assert (body["next_cursor"] is None) == (not body["has_more"])
        if not body["has_more"]:
            return seen, sizes
        cursor = body["next_cursor"]


def test_get_unknown_event_is_404_not_found(acme):
    response = acme.get("/v1/events/evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Event evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W not found.", "details": {}}
    }


@pytest.mark.parametrize("event_id", ["nope", "evt_", "evt_not-a-ulid", "evt_01jd7z8x4q2n3m5p6r7s8t9v0w", "x" * 500])
def test_get_with_a_malformed_id_is_404(acme, event_id):
    response = acme.get(f"/v1/events/{event_id}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_without_status_is_newest_first(acme, create_event):
    ids = [create_event(acme) for _ in range(3)]

    response = acme.get("/v1/events")

    assert response.status_code == 200
    assert ids_of(response) == list(reversed(ids))
    assert response.json()["has_more"] is False
    assert response.json()["next_cursor"] is None


def test_list_with_status_is_oldest_first_and_only_that_status(acme, create_event):
    ids = [create_event(acme) for _ in range(4)]
    acme.post(f"/v1/events/{ids[1]}/ack")

    assert ids_of(acme.get("/v1/events?status=undelivered")) == [ids[0], ids[2], ids[3]]
    assert ids_of(acme.get("/v1/events?status=delivered")) == [ids[1]]
    assert ids_of(acme.get("/v1/events?status=failed")) == []


def test_compatibility_query_lists_undelivered_with_payloads(acme, create_event):
    event_id = create_event(acme, {"event_type": "compat", "k": "v"})

    event = acme.get("/v1/events?status=undelivered&limit=10").json()["events"][0]

    assert (event["id"], event["payload"], event["status"]) == (
        event_id,
        {"event_type": "compat", "k": "v"},
        "undelivered",
    )
    assert isinstance(event["created_at"], int)


def test_list_filters_by_event_type(acme, create_event):
    a = create_event(acme, {"event_type": "a"})
    create_event(acme, {"event_type": "b"})
    create_event(acme, {"other": 1})

    assert ids_of(acme.get("/v1/events?event_type=a")) == [a]


@pytest.mark.parametrize("query", ["", "status=undelivered"])
def test_cursor_walk_visits_each_of_25_events_once_in_pages_of_10(acme, create_event, query):
    ids = [create_event(acme) for _ in range(25)]

    seen, sizes = walk(acme, f"limit=10&{query}")

    assert sorted(seen) == sorted(ids) and len(seen) == 25
    assert sizes == [10, 10, 5]


def test_exactly_full_last_page_says_no_more(acme, create_event):
    for _ in range(20):
        create_event(acme)

    first = acme.get("/v1/events?limit=10").json()
    second = acme.get(f"/v1/events?limit=10&cursor={first['next_cursor']}").json()

    assert (first["has_more"], len(first["events"])) == (True, 10)
    assert (second["has_more"], second["next_cursor"], len(second["events"])) == (False, None, 10)


def test_filtered_pages_are_full_pages(acme, create_event):
    wanted = []
    for i in range(30):
        event_id = create_event(acme, {"event_type": "wanted" if i % 3 == 0 else "other"})
        if i % 3 == 0:
            wanted.append(event_id)

    seen, sizes = walk(acme, "limit=4&event_type=wanted&status=undelivered")

    assert seen == wanted
    assert sizes == [4, 4, 2]


def test_events_created_during_a_walk_do_not_break_it(acme, create_event):
    ids = [create_event(acme) for _ in range(10)]
    first = acme.get("/v1/events?limit=4&status=undelivered").json()
    later = [create_event(acme) for _ in range(3)]

    rest, _ = walk(acme, "limit=4&status=undelivered", cursor=first["next_cursor"])

    assert [e["id"] for e in first["events"]] + rest == ids + later


def test_deleted_events_ahead_may_shorten_a_page_of_at_most_two_queries_and_the_walk_goes_on(acme, create_event):
    older = [create_event(acme) for _ in range(3)]
    for _ in range(10):
        acme.delete(f"/v1/events/{create_event(acme)}")
    newer = [create_event(acme) for _ in range(3)]
    seen, pages, cursor = [], [], None
    while True:
        with store_calls() as calls:
            body = acme.get("/v1/events?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [event["id"] for event in body["events"]]
        pages.append((len(body["events"]), body["has_more"], calls["Query"]))
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]

    assert seen == list(reversed(older + newer))
    assert (1, True) in [(size, more) for size, more, _ in pages]
    assert max(queries for _, _, queries in pages) == 2


@pytest.mark.parametrize(
    "query,field",
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=1.5", "limit"),
        ("status=bogus", "status"),
        ("event_type=" + "x" * 256, "event_type"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_bad_query_values_are_400_naming_the_field(acme, query, field):
    response = acme.get(f"/v1/events?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]


def test_empty_query_values_mean_no_filter(acme, create_event):
    event_id = create_event(acme)

    assert ids_of(acme.get("/v1/events?status=&event_type=&cursor=")) == [event_id]


def test_cursor_is_bound_to_its_filters(acme, create_event):
    for _ in range(3):
        create_event(acme)
    cursor = acme.get("/v1/events?limit=1&status=undelivered").json()["next_cursor"]

    response = acme.get(f"/v1/events?limit=1&status=delivered&cursor={cursor}")

    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["details"]


def test_tampered_cursor_is_400(acme, create_event):
    for _ in range(3):
        create_event(acme)
    cursor = acme.get("/v1/events?limit=1").json()["next_cursor"]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")

    response = acme.get(f"/v1/events?limit=1&cursor={tampered}")

    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["details"]


def test_expired_event_is_invisible_to_get_and_list(acme, create_event):
    event_id = create_event(acme)
    event = Event.get("acme", event_id)
    event.update(actions=[Event.expires_at.set(event.expires_at.replace(year=2000))])

    assert acme.get(f"/v1/events/{event_id}").status_code == 404
    assert ids_of(acme.get("/v1/events")) == []
    assert ids_of(acme.get("/v1/events?status=undelivered")) == []


@override_settings(RETENTION_DAYS=30)
def test_new_events_expire_after_the_retention_period(acme, create_event):
    event_id = create_event(acme)

    event = Event.get("acme", event_id)

    assert round(event.expires_at.timestamp() * 1000) // 1000 == (event.created_at + 30 * 86_400_000) // 1000
