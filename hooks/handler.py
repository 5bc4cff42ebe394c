"""The push-delivery entry points, the same on Lambda and locally (`run_deliveries`).

handle_stream(event, context): the events table's stream function; `event` is what Lambda
sends a DynamoDB stream event source: {"Records": [{"eventName": "INSERT", "dynamodb":
{"Keys": ..., "NewImage": ..., "SequenceNumber": ...}}, ...]}.
run_due(event, context): the scheduled function (every minute): attempts due retries."""


def handle_stream(event: dict, context=None) -> dict:
    return {"batchItemFailures": []}


def run_due(event: dict | None = None, context=None) -> dict:
    return {"attempted": 0}
