"""A hook's `rate_limit` (HOOKS.md): attempts per second to it, 1-1000, or null for the
tenant's pace; taken on create and PATCH, refused in the contract's envelope otherwise, kept
and shown on the hook."""

import pytest

from hooks.models import Hook

TARGET = "https://hooks.example.com/in"


@pytest.fixture(autouse=True)
def public_dns(resolve):
    from tests.hooks.conftest import PUBLIC, answers

    resolve(answers(PUBLIC))


def create(client, **body):
    return client.post("/v1/hooks", {"target_url": TARGET, **body}, format="json")


def test_a_hook_created_with_a_rate_limit_keeps_and_shows_it(acme):
    created = create(acme, rate_limit=25).json()

    assert created["rate_limit"] == 25
    assert acme.get(f"/v1/hooks/{created['id']}").json()["rate_limit"] == 25
    assert acme.get("/v1/hooks").json()["hooks"][0]["rate_limit"] == 25
    assert Hook.get("acme", Hook.key_for(created["id"])).rate_limit == 25


@pytest.mark.parametrize("rate_limit", [None, 1, 1000])
def test_null_and_the_bounds_are_accepted(acme, rate_limit):
    response = create(acme, rate_limit=rate_limit)

    assert (response.status_code, response.json()["rate_limit"]) == (201, rate_limit)


def test_without_one_a_hook_has_none(acme):
    assert create(acme).json()["rate_limit"] is None


@pytest.mark.parametrize(
    ("rate_limit", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (1001, "Ensure this value is less than or equal to 1000."),
        ("x", "A valid integer is required."),
        ("25", "A valid integer is required."),
        (1.5, "A valid integer is required."),
        (25.0, "A valid integer is required."),
        (True, "A valid integer is required."),
    ],
)
def test_a_rate_limit_out_of_range_or_not_an_integer_is_400_naming_it(acme, rate_limit, message):
    hook = create(acme).json()

    for response in (
        create(acme, rate_limit=rate_limit),
        acme.patch(f"/v1/hooks/{hook['id']}", {"rate_limit": rate_limit}, format="json"),
    ):
        assert (response.status_code, response.json()["error"]) == (
            400,
            {
                "code": "validation_error",
                "message": f"Invalid request: rate_limit: {message}",
                "details": {"rate_limit": [message]},
            },
        )
    assert acme.get(f"/v1/hooks/{hook['id']}").json()["rate_limit"] is None


def test_patch_sets_a_rate_limit_and_null_clears_it(acme):
    hook = create(acme).json()

    set_to = acme.patch(f"/v1/hooks/{hook['id']}", {"rate_limit": 10}, format="json").json()
    other = acme.patch(f"/v1/hooks/{hook['id']}", {"description": "kept"}, format="json").json()
    cleared = acme.patch(f"/v1/hooks/{hook['id']}", {"rate_limit": None}, format="json").json()

    assert (set_to["rate_limit"], other["rate_limit"], cleared["rate_limit"]) == (10, 10, None)
    assert Hook.get("acme", Hook.key_for(hook["id"])).rate_limit is None
    assert "rate_limit" not in Hook.get("acme", Hook.key_for(hook["id"])).serialize()
