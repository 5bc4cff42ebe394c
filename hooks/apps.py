from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "hooks"

    def ready(self):
        from hooks.models import DELIVERY_STATUS_INDEX, Delivery, Hook, HookCount, StreamCheckpoint
        from triggerapi.tables import Table

        # Delivery's definition (keys, due-index, TTL) creates the table the others share.
        others = (Hook, HookCount, StreamCheckpoint)
        self.tables = (Table(Delivery, others=others, indexes=(DELIVERY_STATUS_INDEX,)),)
