from django.apps import AppConfig


class TriggerApiConfig(AppConfig):
    """The project's own app: process-wide hooks that must be in place before the first
    store call (which may come before any request, e.g. from a command)."""

    name = "triggerapi"

    def ready(self):
        from triggerapi.middleware import count_store_calls

        count_store_calls()
