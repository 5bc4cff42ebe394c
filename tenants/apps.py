from django.apps import AppConfig

from tenants.keys import KEY_PREFIX


class TenantsConfig(AppConfig):
    name = "tenants"
    # An X-Request-ID that starts like an API key is replaced, never echoed or logged.
    secret_prefixes = (KEY_PREFIX,)

    def ready(self):
        from tenants.models import ApiKey
        from triggerapi.tables import Table

        self.tables = (Table(ApiKey),)
