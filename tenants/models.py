from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from triggerapi.store import StoreMeta, table_name

SCOPES = ("ingest", "consume", "hooks")
# Which scopes a key was issued knowing: absent on keys issued before `hooks` existed, which
# the one-time migration (tenants/scopes_migration.py) looks for.
SCOPES_VERSION = 2
ACTIVE = "active"
REVOKED = "revoked"


class TenantIndex(GlobalSecondaryIndex["ApiKey"]):
    """A tenant's keys, oldest first (list_keys, seed_tenants)."""

    class Meta:
        index_name = "tenant-index"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ApiKey(Model):
    """An API key, stored only as its SHA-256; the plaintext is shown once, when issued."""

    class Meta(StoreMeta):
        table_name = table_name("TenantApiKeys")

    key_hash = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    prefix = UnicodeAttribute()
    last4 = UnicodeAttribute()
    scopes = UnicodeSetAttribute()
    status = UnicodeAttribute(default=ACTIVE)
    created_at = NumberAttribute()
    last_used_at = NumberAttribute(null=True)
    revoked_at = NumberAttribute(null=True)
    scopes_version = NumberAttribute(null=True)
    write_token = UnicodeAttribute(null=True)

    tenant_index = TenantIndex()

    @property
    def masked(self) -> str:
        return f"{self.prefix}…{self.last4}"
