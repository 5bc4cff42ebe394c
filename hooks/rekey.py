"""Moving the hooks' secrets to the current SECRET_KEY (a rotation: docs/DEPLOY.md), and the
canary that says whether a process can open them.

The canary is a known text sealed as the secrets are. create_tables seals it when there is
none, and never over one that exists (a shell holding another key must not hide the stage's
key); the readiness check opens it with the process's SECRET_KEY and fallbacks; and
reseal_hook_secrets reseals it last, only once every hook secret opens under the current
key. So a canary sealed under the current key says the fallbacks may go, and a process that
cannot open it cannot open the secrets either."""

from dataclasses import dataclass, field

from hooks import vault
from hooks.models import CANARY_KEY, HOOK_PREFIX, Hook, SecretCanary
from triggerapi import store, writes
from triggerapi.store import ConditionFailed, now_ms
from triggerapi.tables import NotReady

CANARY_TEXT = "triggerapi secret-key canary"
SECRET_KEY_CHECK = "secret_key"
# A hook changed (rotated, re-enabled) between our read and our write is read again and
# resealed again, this many times at most.
RESEAL_TRIES = 5


class ResealRefused(Exception):
    """Resealing would make things worse (the keys at hand are not the stage's)."""


@dataclass
class Resealed:
    resealed: int = 0  # hooks whose secrets were moved to the current key
    current: int = 0  # hooks whose secrets already were under it
    unreadable: list[Hook] = field(default_factory=list)  # no key at hand opens them
    busy: list[Hook] = field(default_factory=list)  # kept changing under us
    canary_resealed: bool = False


def _opens(sealed: str) -> bool:
    try:
        return vault.unseal(sealed) == CANARY_TEXT
    except ValueError:
        return False


def _canary_get() -> SecretCanary | None:
    try:
        return store.call(lambda: SecretCanary.get(CANARY_KEY, SecretCanary.sk.default), what="GetItem SecretCanary")
    except SecretCanary.DoesNotExist:
        return None


def canary_prepare() -> str:
    """create_tables: seals the canary if there is none, and says whether it opens."""
    canary = SecretCanary(sealed=vault.seal(CANARY_TEXT), updated_at=now_ms())
    try:
        writes.put(canary, condition=SecretCanary.pk.does_not_exist(), token=writes.new_token())
    except ConditionFailed as exc:
        if exc.item and _opens(SecretCanary.from_raw_data(exc.item).sealed):
            return "secret-key canary opens under this SECRET_KEY"
        return (
            "secret-key canary sealed under another SECRET_KEY (fine for create_tables; "
            "reseal_hook_secrets needs the stage's keys)"
        )
    return "secret-key canary sealed under this SECRET_KEY"


def canary_check() -> None:
    """/health/ready's read of the hooks table: the canary must open with this process's keys."""
    canary = _canary_get()
    if canary is None:
        raise NotReady("the secret-key canary is missing: run create_tables.", check=SECRET_KEY_CHECK)
    if not _opens(canary.sealed):
        raise NotReady(
            "this process's SECRET_KEY and SECRET_KEY_FALLBACKS cannot open the secret-key canary, nor so "
            "the hooks' secrets (docs/DEPLOY.md, Rotating SECRET_KEY).",
            check=SECRET_KEY_CHECK,
        )


def hook_secrets_reseal() -> Resealed:
    """Every hook's secret (and a previous one still signing) under the current SECRET_KEY,
    each hook by one write conditional on the secrets read; then the canary."""
    canary = _canary_get()
    if canary is not None and not _opens(canary.sealed):
        raise ResealRefused(
            "This shell's SECRET_KEY and SECRET_KEY_FALLBACKS cannot open the secret-key canary: they are not the "
            "stage's. Export the stage's new SECRET_KEY, and the old one in SECRET_KEY_FALLBACKS; nothing changed."
        )
    report = Resealed()
    now = now_ms()
    for hook in _hooks_all():
        _reseal_hook(hook, now, report)
    if not report.unreadable and not report.busy:
        report.canary_resealed = _canary_reseal(canary)
    return report


def _hooks_all() -> list[Hook]:
    """Every tenant's hooks. One Scan of the whole table, deliveries included: only this
    operator command reads it so, once per rotation."""
    return store.call(lambda: list(Hook.scan(Hook.sk.startswith(HOOK_PREFIX))), what="Scan hooks")


def _reseal_hook(hook: Hook, now: int, report: Resealed) -> None:
    for _ in range(RESEAL_TRIES):
        try:
            actions = _reseal_actions(hook, now)
        except ValueError:
            report.unreadable.append(hook)
            return
        if not actions:
            report.current += 1
            return
        try:
            writes.update(
                Hook,
                hook.tenant_id,
                hook.sk,
                actions=actions,
                condition=_unchanged(hook),
                token=writes.new_token(),
                return_item=False,
            )
        except ConditionFailed as exc:
            if exc.item is None:
                return  # deleted meanwhile: nothing left to reseal
            hook = Hook.from_raw_data(exc.item)
            continue
        report.resealed += 1
        return
    report.busy.append(hook)


def _reseal_actions(hook: Hook, now: int) -> list:
    """A previous secret past its 24 h signs no more: it goes rather than being resealed."""
    actions = []
    if secret := vault.reseal(hook.secret):
        actions.append(Hook.secret.set(secret))
    if hook.previous_secret and (hook.previous_secret_until or 0) > now:
        if previous := vault.reseal(hook.previous_secret):
            actions.append(Hook.previous_secret.set(previous))
    elif hook.previous_secret:
        actions += [Hook.previous_secret.remove(), Hook.previous_secret_until.remove()]
    return actions


def _unchanged(hook: Hook):
    previous = (
        Hook.previous_secret == hook.previous_secret if hook.previous_secret else Hook.previous_secret.does_not_exist()
    )
    return (Hook.secret == hook.secret) & previous


def _canary_reseal(canary: SecretCanary | None) -> bool:
    """True when the canary was (re)sealed now, False when it already was under the key."""
    if canary is not None and vault.reseal(canary.sealed) is None:
        return False
    condition = SecretCanary.sealed == canary.sealed if canary else SecretCanary.pk.does_not_exist()
    fresh = SecretCanary(sealed=vault.seal(CANARY_TEXT), updated_at=now_ms())
    try:
        writes.put(fresh, condition=condition, token=writes.new_token())
    except ConditionFailed:
        raise ResealRefused("The secret-key canary changed while this ran (another reseal?): run it again.") from None
    return True
