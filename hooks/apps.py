from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "hooks"

    def ready(self):
        from hooks.attempts import Attempt
        from hooks.lanes import READY_INDEX, Lane
        from hooks.models import DELIVERY_STATUS_INDEX, Delivery, Hook, HookCount, SecretCanary, StreamCheckpoint
        from hooks.rekey import canary_check, canary_prepare
        from triggerapi.tables import Table

        # Delivery's definition (keys, due-index, TTL) creates the table the others share. The
        # readiness check reads the secret-key canary in it: a process whose keys cannot open
        # it cannot open the hooks' secrets either.
        others = (Hook, HookCount, StreamCheckpoint, SecretCanary, Lane, Attempt)
        self.tables = (
            Table(
                Delivery,
                others=others,
                indexes=(DELIVERY_STATUS_INDEX, READY_INDEX),
                prepare=canary_prepare,
                ready=canary_check,
            ),
        )
