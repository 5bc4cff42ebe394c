"""Hook ids: `hook_` + a ULID."""

from ulid import ULID

HOOK_PREFIX = "hook_"


def new_hook_id() -> str:
    return HOOK_PREFIX + str(ULID())


def is_hook_id(value: str) -> bool:
    """Only canonical ids reach the store; anything else is simply not found."""
    body = value.removeprefix(HOOK_PREFIX)
    if body == value or len(body) != 26:
        return False
    try:
        return str(ULID.from_str(body)) == body
    except ValueError:
        return False
