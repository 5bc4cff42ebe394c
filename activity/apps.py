from django.apps import AppConfig


class ActivityConfig(AppConfig):
    """What a tenant can see of what happened: counters, series, each event's history
    (OBSERVE.md). Derived from the events table's stream and the delivery pipeline's
    outcomes, never from a scan of the tenant's events."""

    name = "activity"

    def ready(self):
        from activity.models import Activity
        from triggerapi.tables import Table

        self.tables = (Table(Activity),)
