"""`manage.py run_deliveries` with the stream handler replaced by a recorder, for tests that
run it as a process: each batch handed to hooks.handler.handle_stream is appended to the
file $RECORD_TO as one JSON line. A record whose sort key is in $FAIL_ONCE (comma-separated)
is reported failed (batchItemFailures) the first time it comes.

    python -m tests.integration.deliveries_recorder [run_deliveries options]
"""

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerapi.settings")
    import django

    django.setup()
    from django.core.management import execute_from_command_line

    from hooks import handler

    fail_once = set(filter(None, os.environ.get("FAIL_ONCE", "").split(",")))

    def record(event, context=None, *, offer=None):
        with open(os.environ["RECORD_TO"], "a") as out:
            out.write(json.dumps(event) + "\n")
        failures = []
        for item in event["Records"]:
            key = item["dynamodb"]["Keys"]["sk"]["S"]
            if key in fail_once:
                fail_once.discard(key)
                failures.append({"itemIdentifier": item["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failures}

    handler.handle_stream = record
    execute_from_command_line(["manage.py", "run_deliveries", *sys.argv[1:]])


if __name__ == "__main__":
    main()
