"""What the state machine (test_state_machine.py) sends: two tenants, payloads, keys that
repeat; and how it reads a list: every page, following the cursor."""

from hypothesis import strategies as st

TENANTS = ("acme", "globex")
TENANT = st.sampled_from(TENANTS)
EVENT_TYPES = st.sampled_from([None, "a", "b"])
SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    SCALARS | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=6,
)
PAYLOADS = st.builds(
    lambda data, event_type: {**data, **({"event_type": event_type} if event_type else {})},
    st.dictionaries(st.sampled_from(["x", "y", "z"]), JSON, max_size=3),
    EVENT_TYPES,
)
# A small pool, so that keys repeat (answered again, reused with another body) and are shared by the tenants.
KEYS = st.none() | st.sampled_from(["k1", "k2", "k3"])
NOT_AN_ID = "evt_01JD7Z8X4Q2N3M5P6R7S8T9V0W"


def walk(client, query: dict, full: bool = False, short_pages: bool = False) -> list:
    """Every page of a list, following next_cursor; each page but the last is full, unless
    `short_pages` (deleted events may lie ahead: then a page is at most full)."""
    seen, cursor = [], None
    while True:
        response = client.get("/v1/events", {**query, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        page = response.json()
        seen += page["events"] if full else [event["id"] for event in page["events"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return seen
        assert len(page["events"]) <= query["limit"] if short_pages else len(page["events"]) == query["limit"]
        cursor = page["next_cursor"]
