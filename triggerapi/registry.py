"""What the installed apps declare on their AppConfig for the shared layer: the tables they
keep (`tables`) and the prefixes of the secrets they issue (`secret_prefixes`). The shared
layer asks Django's app registry rather than importing an app, so it stays below them all."""

from django.apps import apps


def declared(attribute: str) -> list:
    """Every app's declarations under `attribute`, in INSTALLED_APPS order."""
    return [item for config in apps.get_app_configs() for item in getattr(config, attribute, ())]
