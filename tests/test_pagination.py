"""The one page every list uses: cursors bound to their tenant and query, start keys from the
model's own keys, reads bounded to MAX_CALLS store calls that skip what the filter drops and
go on where they stopped, pages read from an index of keys (a Query, then the items), and
the pager the browsable API draws."""

from datetime import UTC, datetime

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from events.ids import EVENT_PREFIX
from events.models import TYPE_INDEX, TYPE_STATUS_INDEX, Event
from tests.store_hooks import store_calls
from triggerapi import pagination
from triggerapi.pagination import (
    MAX_CALLS,
    CursorPaginator,
    IndexListing,
    Listing,
    Page,
    cursor_decode,
    cursor_encode,
    index_page_read,
    page_read,
    start_key,
)
from triggerapi.store import StoreUnavailable

QUERY = {"status": None, "order": "desc"}


def events_listing(condition=None) -> Listing:
    """acme's events, newest first, as the event list reads them: live ones by default."""
    if condition is None:
        condition = Event.expires_at > datetime.now(UTC)
    return Listing(
        Event, "acme", Event.event_id.startswith(EVENT_PREFIX), filter_condition=condition, scan_index_forward=False
    )


def walk(listing: Listing, limit: int) -> list[Page]:
    pages, cursor = [], None
    while True:
        with store_calls() as calls:
            page = page_read(listing, tenant_id="acme", query=QUERY, limit=limit, cursor=cursor)
        assert calls["Query"] <= MAX_CALLS
        assert (page.next_cursor is None) == (not page.has_more)
        pages.append(page)
        if not page.has_more:
            return pages
        cursor = page.next_cursor


def test_a_cursor_gives_back_what_it_was_made_with():
    cursor = cursor_encode(tenant_id="acme", query=QUERY, after={"sk": {"S": "evt_1"}})

    assert cursor_decode(cursor=cursor, tenant_id="acme", query=QUERY) == {"sk": {"S": "evt_1"}}


@pytest.mark.parametrize(
    "tenant_id,query",
    [("globex", QUERY), ("acme", {**QUERY, "status": "delivered"}), ("acme", {**QUERY, "order": "asc"})],
)
def test_a_cursor_of_another_tenant_or_query_is_refused(tenant_id, query):
    cursor = cursor_encode(tenant_id="acme", query=QUERY, after="evt_1")

    with pytest.raises(ValidationError) as refused:
        cursor_decode(cursor=cursor, tenant_id=tenant_id, query=query)

    assert "cursor" in refused.value.detail


def test_a_tampered_cursor_is_refused():
    cursor = cursor_encode(tenant_id="acme", query=QUERY, after="evt_1")

    with pytest.raises(ValidationError):
        cursor_decode(
            cursor=cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB"), tenant_id="acme", query=QUERY
        )


def test_a_start_key_names_the_tables_keys_and_an_indexs_own_in_front():
    event = Event(
        "acme", "evt_1", tenant_status="acme#undelivered", inbox_tenant="acme", inbox_key="0000000000001#evt_1"
    )

    assert start_key(event) == {"tenant_id": {"S": "acme"}, "sk": {"S": "evt_1"}}
    assert start_key(event, Event.status_index) == {
        "tenant_status": {"S": "acme#undelivered"},
        "tenant_id": {"S": "acme"},
        "sk": {"S": "evt_1"},
    }
    assert list(start_key(event, Event.inbox_index)) == ["inbox_tenant", "inbox_key", "tenant_id", "sk"]


def test_one_more_item_than_the_page_says_exactly_whether_there_is_more(acme, create_event):
    ids = [create_event(acme) for _ in range(4)]

    pages = walk(events_listing(), limit=2)

    assert [[e.event_id for e in page.items] for page in pages] == [ids[:1:-1], ids[1::-1]]
    assert [page.has_more for page in pages] == [True, False]


def test_deleted_items_ahead_make_a_short_page_that_goes_on_where_the_read_stopped(acme, create_event):
    older = [create_event(acme) for _ in range(3)]
    for _ in range(10):
        acme.delete(f"/v1/events/{create_event(acme)}")
    newer = [create_event(acme) for _ in range(3)]

    pages = walk(events_listing(), limit=2)

    seen = [event.event_id for page in pages for event in page.items]
    assert seen == list(reversed(older + newer))
    assert any(len(page.items) < 2 and page.has_more for page in pages)


def typed_listing(keep=lambda event: True) -> IndexListing:
    """acme's events of type "t", oldest first, from the index by type (keys only)."""
    return IndexListing(Event, TYPE_INDEX, ("acme#t",), keep)


def test_an_index_page_reads_one_key_past_the_page_then_the_pages_items(acme, create_event):
    ids = [create_event(acme, {"event_type": "t"}) for _ in range(3)]

    with store_calls() as calls:
        first = index_page_read(typed_listing(), tenant_id="acme", query=QUERY, limit=2)
    last = index_page_read(typed_listing(), tenant_id="acme", query=QUERY, limit=2, cursor=first.next_cursor)

    assert dict(calls) == {"Query": 1, "BatchGetItem": 1}
    assert ([e.event_id for e in first.items], first.has_more) == (ids[:2], True)
    assert ([e.event_id for e in last.items], last.has_more, last.next_cursor) == (ids[2:], False, None)


def test_a_cursor_holds_the_key_past_the_partition_and_nothing_projected(acme, create_event):
    for _ in range(2):
        create_event(acme, {"event_type": "t"})
    listing = IndexListing(Event, TYPE_STATUS_INDEX, ("acme#t", "undelivered"), lambda event: True)

    page = index_page_read(listing, tenant_id="acme", query=QUERY, limit=1)

    assert set(cursor_decode(cursor=page.next_cursor, tenant_id="acme", query=QUERY)) == {"tenant_id", "sk"}


def test_an_item_the_list_no_longer_shows_is_left_out_of_its_page(acme, create_event):
    ids = [create_event(acme, {"event_type": "t", "n": n}) for n in range(3)]

    page = index_page_read(
        typed_listing(keep=lambda event: event.event_id != ids[1]), tenant_id="acme", query=QUERY, limit=3
    )

    assert ([e.event_id for e in page.items], page.has_more) == ([ids[0], ids[2]], False)


def leaving_unread(monkeypatch, unread_from: int):
    """The store leaves the page's keys from the n-th on unread, as past 16 MB of items."""
    read = pagination.items_get

    def partly(model, keys):
        found, _ = read(model, keys[:unread_from])
        return found, keys[unread_from:]

    monkeypatch.setattr(pagination, "items_get", partly)


def test_keys_left_unread_end_the_page_before_them_and_the_next_page_reads_them(acme, create_event, monkeypatch):
    ids = [create_event(acme, {"event_type": "t"}) for _ in range(4)]
    leaving_unread(monkeypatch, 2)

    first = index_page_read(typed_listing(), tenant_id="acme", query=QUERY, limit=3)
    second = index_page_read(typed_listing(), tenant_id="acme", query=QUERY, limit=3, cursor=first.next_cursor)

    assert ([e.event_id for e in first.items], first.has_more) == (ids[:2], True)
    assert ([e.event_id for e in second.items], second.has_more) == (ids[2:], False)


def test_a_page_whose_first_key_is_left_unread_is_the_store_being_unavailable(acme, create_event, monkeypatch):
    create_event(acme, {"event_type": "t"})
    leaving_unread(monkeypatch, 0)

    with pytest.raises(StoreUnavailable):
        index_page_read(typed_listing(), tenant_id="acme", query=QUERY, limit=3)


def pager(path: str, page: Page) -> CursorPaginator:
    return CursorPaginator(Request(APIRequestFactory().get(path)), page)


def test_the_pager_links_the_next_page_with_the_same_query_and_back_to_the_first():
    first = pager("/v1/hooks/hook_1/deliveries?status=failed&limit=2&order=", Page([], "c1", True))
    later = pager("/v1/hooks/hook_1/deliveries?status=failed&cursor=c1", Page([], None, False))

    assert (first.next_url, first.first_url) == ("/v1/hooks/hook_1/deliveries?status=failed&limit=2&cursor=c1", None)
    assert (later.next_url, later.first_url) == (None, "/v1/hooks/hook_1/deliveries?status=failed")
    assert 'href="/v1/hooks/hook_1/deliveries?status=failed" id="first-page"' in later.to_html()


def test_a_single_page_draws_no_pager():
    assert pager("/v1/hooks", Page([], None, False)).display_page_controls is False
