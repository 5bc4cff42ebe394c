"""A created hook renders on its own: its fields from the hook, its secret from the
CreatedHook, never the sealed one the hook holds."""

from hooks.models import Hook
from hooks.serializers import CreatedHookSerializer
from hooks.services import CreatedHook


def test_a_created_hook_renders_the_hook_and_its_secret_shown_once():
    hook = Hook(
        "acme",
        Hook.key_for("hook_1"),
        hook_id="hook_1",
        target_url="https://hooks.example.com/in",
        event_types=["order.paid"],
        secret="sealed",
        created_at=1,
        updated_at=2,
    )

    assert CreatedHookSerializer(CreatedHook(hook, "whsec_shown")).data == {
        "id": "hook_1",
        "target_url": "https://hooks.example.com/in",
        "event_types": ["order.paid"],
        "description": None,
        "status": "active",
        "disabled_reason": None,
        "rate_limit": None,
        "created_by": None,
        "created_at": 1,
        "updated_at": 2,
        "secret": "whsec_shown",
    }
