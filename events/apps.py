from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self):
        from events.models import Event, IdempotencyRecord
        from triggerapi.tables import Table

        self.tables = (Table(Event, others=(IdempotencyRecord,)),)
