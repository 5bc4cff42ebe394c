from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self):
        # There is no database (DynamoDB only): Django's receivers that reset and close
        # database connections at every request's start and end have nothing to do.
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections, reset_queries

        request_started.disconnect(reset_queries)
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)

        from events.models import INBOX_TYPE_INDEX, TYPE_INDEX, TYPE_STATUS_INDEX, Event, IdempotencyRecord
        from triggerapi.tables import Table

        indexes = (TYPE_INDEX, TYPE_STATUS_INDEX, INBOX_TYPE_INDEX)
        self.tables = (Table(Event, others=(IdempotencyRecord,), indexes=indexes),)
