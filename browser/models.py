from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from triggerapi.store import StoreMeta, table_name


class BrowserSession(Model):
    """A browsable-API login, in `{prefix}-Sessions`. The cookie holds a random session id;
    the table keeps only the id's SHA-256, so reading the table yields no usable cookie.
    Deleting the item (logout) ends the session for every copy of the cookie."""

    class Meta(StoreMeta):
        table_name = table_name("Sessions")

    key_hash = UnicodeAttribute(hash_key=True)
    # Django's encoded session: {"api_key_hash": ...}, signed with SECRET_KEY.
    data = UnicodeAttribute()
    # DynamoDB deletes expired sessions lazily; a read checks the time itself.
    expires_at = TTLAttribute()
    write_token = UnicodeAttribute(null=True)
