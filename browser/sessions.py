"""A Django session engine on DynamoDB (`SESSION_ENGINE = "browser.sessions"`).

Sessions used to live in a signed cookie, with no server state: logging out deleted the
cookie in that browser, but a copy taken before kept working until it expired. Here the
cookie is only a random id and the session is an item that logout deletes, so every copy
stops working at once. Reads are strongly consistent for the same reason."""

import hashlib
from datetime import UTC, datetime

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase, UpdateError
from django.utils.crypto import get_random_string

from browser.models import BrowserSession
from triggerapi import store, writes
from triggerapi.store import ConditionFailed


def _item_key(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def _live_session(session_key: str | None) -> BrowserSession | None:
    if not session_key:
        return None
    try:
        record = store.call(
            lambda: BrowserSession.get(_item_key(session_key), consistent_read=True), what="GetItem BrowserSession"
        )
    except BrowserSession.DoesNotExist:
        return None
    return record if record.expires_at > datetime.now(UTC) else None


class SessionStore(SessionBase):
    def load(self) -> dict:
        record = _live_session(self.session_key)
        if record is None:
            # Unknown, expired or logged out: the browser gets a new, empty session.
            self._session_key = None
            return {}
        return self.decode(record.data)

    def exists(self, session_key: str) -> bool:
        return _live_session(session_key) is not None

    def create(self) -> None:
        """A new id, written only if no session has it (no read first: the write's
        condition is the check)."""
        while True:
            self._session_key = get_random_string(32, VALID_KEY_CHARS)
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        """Writes the session. An update is conditional on the session still existing, so a
        request that was in flight when the session was logged out cannot bring it back
        (Django answers it 400, as with its database backend)."""
        if self.session_key is None:
            return self.create()
        record = BrowserSession(
            _item_key(self.session_key),
            data=self.encode(self._get_session(no_load=must_create)),
            expires_at=self.get_expiry_date(),
        )
        exists = BrowserSession.key_hash.exists()
        try:
            writes.put(record, condition=~exists if must_create else exists, token=writes.new_token())
        except ConditionFailed:
            raise CreateError if must_create else UpdateError from None

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key:
            # Unconditional, so repeating it after a lost answer is harmless.
            store.call(lambda: BrowserSession(_item_key(session_key)).delete(), what="DeleteItem BrowserSession")

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: DynamoDB's TTL deletes expired sessions."""
