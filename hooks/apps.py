from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "hooks"

    def ready(self):
        from hooks.models import Delivery, Hook, HookCount, StreamCheckpoint
        from triggerapi.tables import Table

        # Delivery's definition (keys, due-index, TTL) creates the table the others share.
        self.tables = (Table(Delivery, others=(Hook, HookCount, StreamCheckpoint)),)
