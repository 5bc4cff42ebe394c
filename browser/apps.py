from django.apps import AppConfig


class BrowserConfig(AppConfig):
    """The API for people in a browser: log in with an API key, then use DRF's browsable API."""

    name = "browser"

    def ready(self):
        from browser.models import BrowserSession
        from triggerapi.tables import Table

        self.tables = (Table(BrowserSession),)
