"""The one-time migration of the keys issued before the `hooks` scope existed (API.md). The
hooks endpoints used to take `consume`, so an active key holding `consume` (a Zap's, say)
gains `hooks` and the subscriptions it manages keep working.

Which keys are "before" is recorded on each key, not guessed from a date: keys issued since
carry SCOPES_VERSION, so a consume-only key issued after the migration (or just before it,
by this version) never gains `hooks`. Each old key is changed by one write conditional on
it still lacking SCOPES_VERSION, so the migration changes a key once however often it runs,
two runs at once included; running it before and after a deploy also catches keys that an
older checkout issued in between."""

from dataclasses import dataclass, field

from tenants.models import ACTIVE, SCOPES_VERSION, ApiKey
from triggerapi import store, writes
from triggerapi.store import ConditionFailed

HOOKS = "hooks"
GRANTED_BY = "consume"


@dataclass
class Migrated:
    granted: list[ApiKey] = field(default_factory=list)  # gained `hooks`
    marked: list[ApiKey] = field(default_factory=list)  # current now, scopes unchanged


def hooks_scope_migrate() -> Migrated:
    """Gives `hooks` to every active key issued before it existed that holds `consume`, and
    marks every such key (with or without `consume`) as current."""
    not_migrated = ApiKey.scopes_version.does_not_exist() & (ApiKey.status == ACTIVE)
    keys = store.call(lambda: list(ApiKey.scan(not_migrated)), what="Scan keys")
    migrated = Migrated()
    for key in sorted(keys, key=lambda k: (k.tenant_id, k.created_at)):
        grant = GRANTED_BY in key.scopes
        actions = [ApiKey.scopes_version.set(SCOPES_VERSION)]
        if grant:
            actions.append(ApiKey.scopes.add({HOOKS}))
        try:
            writes.update(
                ApiKey,
                key.key_hash,
                actions=actions,
                condition=not_migrated,
                token=writes.new_token(),
                return_item=False,
            )
        except ConditionFailed:
            continue  # another run migrated it first, or it was revoked meanwhile
        (migrated.granted if grant else migrated.marked).append(key)
    return migrated
