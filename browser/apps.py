from django.apps import AppConfig


class BrowserConfig(AppConfig):
    """The API for people in a browser: log in with an API key, then use DRF's browsable API."""

    name = "browser"
