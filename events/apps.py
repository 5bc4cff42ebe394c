from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self):
        from events.models import INBOX_TYPE_INDEX, TYPE_INDEX, TYPE_STATUS_INDEX, Event, IdempotencyRecord
        from triggerapi.tables import Table

        indexes = (TYPE_INDEX, TYPE_STATUS_INDEX, INBOX_TYPE_INDEX)
        self.tables = (Table(Event, others=(IdempotencyRecord,), indexes=indexes),)
