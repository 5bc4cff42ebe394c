"""One page for every list, written once as DRF's CursorPagination is: the page (items,
next_cursor, has_more), the signed cursor bound to its tenant and query, the start key taken
from the model's own key attributes, the read of `limit + 1` items that tells exactly whether
there is more, the page's serializer and the pager the browsable API draws under it.

A read whose filter drops items (deleted events awaiting their TTL) stops after MAX_CALLS
store calls of `limit + 1` items each, however many it dropped: the page may then be short,
with has_more true and a cursor at the last key the store evaluated. That is the one case a
page may be short. Every other filter is a key condition (an index keyed by it), so a
filtered page is exact as an unfiltered one is; one whose index projects keys only
(`IndexListing`) reads the page's keys, then its items: two calls."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core import signing
from django.utils.html import format_html, format_html_join
from pynamodb.constants import ITEMS
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import Index
from pynamodb.models import Model
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from triggerapi import store
from triggerapi.indexes import KeyedIndex, items_get, table_key
from triggerapi.serializers import Output, QuerySerializer, StrictIntegerField
from triggerapi.store import StoreUnavailable
from triggerapi.tables import key_attributes

MAX_CALLS = 2
MAX_LIMIT = 100
# A cursor is a signed token (django.core.signing): URL-safe base64, `:` and `.`.
CURSOR_PATTERN = r"^[A-Za-z0-9_:.\-]+$"
# Names what a cursor holds (a store key, or an event id for replay): a cursor signed for
# another salt is refused, never misread.
_SALT = "triggerapi.pagination.cursor"


@dataclass
class Page[T]:
    items: list[T]
    next_cursor: str | None
    has_more: bool


def cursor_encode(*, tenant_id: str, query: dict, after) -> str:
    """A cursor to go on after `after` (any JSON value), for this tenant and query only."""
    return signing.dumps({"t": tenant_id, "q": query, "k": after}, salt=_SALT, compress=True)


def cursor_decode(*, cursor: str, tenant_id: str, query: dict):
    """What the previous page put in its cursor; 400 for a cursor of another tenant or query."""
    try:
        data = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("t") != tenant_id or data.get("q") != query or not data.get("k"):
        raise ValidationError({"cursor": ["Invalid cursor: use next_cursor from a previous page of this same query."]})
    return data["k"]


def start_key(item: Model, index: Index | None = None) -> dict:
    """The item's key as DynamoDB's ExclusiveStartKey for a query of its table or of `index`."""
    values = item.serialize(null_check=False)
    return {attribute.attr_name: values[attribute.attr_name] for attribute in key_attributes(type(item), index)}


@dataclass(frozen=True)
class Listing:
    """What a list reads: one partition of a model's table or of one of its indexes, in key
    order, under an optional range key condition and filter."""

    model: type[Model]
    hash_key: str
    range_key_condition: Condition | None = None
    index: Index | None = None
    filter_condition: Condition | None = None
    scan_index_forward: bool = True
    consistent_read: bool = False

    def one_call(self, start: dict | None, page_size: int) -> tuple[list[Model], dict | None]:
        """One Query: the items it returned and its LastEvaluatedKey. PynamoDB's own iterator
        would go on reading while pages come back empty; its page iterator makes one call."""
        results = (self.index or self.model).query(
            self.hash_key,
            self.range_key_condition,
            filter_condition=self.filter_condition,
            consistent_read=self.consistent_read,
            scan_index_forward=self.scan_index_forward,
            last_evaluated_key=start,
            page_size=page_size,
        )
        page = next(results.page_iter)
        return [self.model.from_raw_data(raw) for raw in page.get(ITEMS, [])], results.page_iter.last_evaluated_key


def page_read(
    listing: Listing, *, tenant_id: str, query: dict, limit: int, cursor: str | None = None, what: str = "Query"
) -> Page:
    """A page of `listing` after `cursor`: one item past the page tells, exactly, whether
    there is more. Each DynamoDB call is its own store call, so a retry repeats one call and
    not the ones before it."""
    after = cursor_decode(cursor=cursor, tenant_id=tenant_id, query=query) if cursor else None
    items: list[Model] = []
    calls = 0
    while True:
        got, after = store.call(lambda after=after: listing.one_call(after, limit + 1), what=what)
        items += got
        calls += 1
        if len(items) > limit or after is None or calls == MAX_CALLS:
            break
    if len(items) > limit:
        items = items[:limit]
        after = start_key(items[-1], listing.index)
    next_cursor = cursor_encode(tenant_id=tenant_id, query=query, after=after) if after is not None else None
    return Page(items, next_cursor, next_cursor is not None)


@dataclass(frozen=True)
class IndexListing:
    """What a list reads from an index that projects its keys only: the partition named by
    `hash_values`, in key order, then the items themselves. `keep` says whether an item, as
    read from the table, still belongs in the list (it may have changed after the index
    named it, or have been deleted)."""

    model: type[Model]
    index: KeyedIndex
    hash_values: tuple
    keep: Callable[[Model], bool]
    filter_condition: Condition | None = None
    scan_index_forward: bool = True


def index_page_read(
    listing: IndexListing, *, tenant_id: str, query: dict, limit: int, cursor: str | None = None, what: str = "Query"
) -> Page:
    """A page of `listing` after `cursor` in two store calls: a Query for `limit + 1` keys
    (the one past the page tells exactly whether there is more), then a BatchGetItem for the
    page's items. Where the store leaves some unread (over 16 MB of items) the page stops
    before the first of them, with a cursor there."""
    index = listing.index
    after = cursor_decode(cursor=cursor, tenant_id=tenant_id, query=query) if cursor else None
    keys, last = store.call(
        lambda: index.query(
            listing.model,
            listing.hash_values,
            limit=limit + 1,
            filter_condition=listing.filter_condition,
            scan_index_forward=listing.scan_index_forward,
            start=index.start_key(listing.hash_values, after) if after is not None else None,
        ),
        what=what,
    )
    if len(keys) > limit:
        keys, last = keys[:limit], keys[limit - 1]
    found, unread = store.call(lambda: items_get(listing.model, keys), what=f"{what} items")
    unread = {table_key(listing.model, key) for key in unread}
    items = []
    for n, key in enumerate(keys):
        if table_key(listing.model, key) in unread:
            if n == 0:  # the store read nothing we can show in order: it is throttling
                raise StoreUnavailable(RuntimeError("BatchGetItem left the page unread"), maybe_applied=False)
            last = keys[n - 1]
            break
        item = found.get(table_key(listing.model, key))
        if item is not None and listing.keep(kept := listing.model.from_raw_data(item)):
            items.append(kept)
    position = index.position(listing.model, last) if last is not None else None
    next_cursor = cursor_encode(tenant_id=tenant_id, query=query, after=position) if position else None
    return Page(items, next_cursor, next_cursor is not None)


def limit_field(default: int = 50) -> StrictIntegerField:
    return StrictIntegerField(required=False, default=default, min_value=1, max_value=MAX_LIMIT)


def cursor_field(help_text: str = "`next_cursor` from the previous page.") -> serializers.RegexField:
    return serializers.RegexField(CURSOR_PATTERN, required=False, max_length=2048, help_text=help_text)


class PageQuerySerializer(QuerySerializer):
    limit = limit_field()
    cursor = cursor_field()


# A `Page` as every list answers it: its items under the list's own name (`events`,
# `hooks`), then `next_cursor` and `has_more`; a subclass names the two. (A comment, not a
# docstring: the schema would show a docstring as the description of every page.)
class PageSerializer(Output):
    items_name: str
    item_serializer: type[serializers.Serializer]

    def get_fields(self) -> dict:
        return {
            self.items_name: self.item_serializer(many=True, source="items"),
            "next_cursor": serializers.CharField(
                allow_null=True, help_text="Pass as `cursor` to get the next page; null on the last page."
            ),
            "has_more": serializers.BooleanField(
                help_text="False on the last page. True if at least one more matches, or where a read skipped "
                "deleted items awaiting their TTL and stopped early to stay bounded: then the page may be short."
            ),
        }


class CursorPaginator:
    """The pager DRF's browsable API draws under a list (it asks the view's `paginator` for
    `to_html()`): the next page, and back to the first, each keeping the query's filters."""

    def __init__(self, request, page: Page):
        filters = [(name, value) for name, value in request.query_params.items() if name != "cursor" and value]
        self.next_url = (
            f"{request.path}?{urlencode([*filters, ('cursor', page.next_cursor)])}" if page.has_more else None
        )
        self.first_url = None
        if "cursor" in request.query_params:
            self.first_url = f"{request.path}?{urlencode(filters)}" if filters else request.path
        self.display_page_controls = bool(self.next_url or self.first_url)

    def to_html(self) -> str:
        links = [
            (url, element_id, label)
            for url, element_id, label in (
                (self.first_url, "first-page", "First page"),
                (self.next_url, "next-page", "Next page →"),
            )
            if url
        ]
        return format_html(
            '<ul class="pager">{}</ul>', format_html_join("", '<li><a href="{}" id="{}">{}</a></li>', links)
        )


class PagedViewSetMixin:
    """A viewset whose lists answer a `Page`: `self.paged(page, serializer)` renders it and
    hands the browsable API its pager."""

    paginator: CursorPaginator | None = None

    def paged(self, page: Page, serializer_class: type[PageSerializer]) -> Response:
        self.paginator = CursorPaginator(self.request, page)
        return Response(serializer_class(page).data)
