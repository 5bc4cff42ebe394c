from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The tenants' web console (OBSERVE.md, "The console"): server-rendered pages over the
    same services and selectors as the API."""

    name = "console"
