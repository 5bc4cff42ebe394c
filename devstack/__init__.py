"""Development only: what runs the app on a developer's machine and in the tests, never on
Lambda. `make package` leaves this package out of the zip (scripts/package.py's SOURCES),
and nothing the zip holds imports it: `manage.py run_deliveries`, the one app command that
needs it, imports the stream reader when it runs and says it is a local-development command
where this package is absent.

    localstore     moto's server, one request at a time, with its patches (moto_patches)
    stack          `make run` (python -m devstack)
    stream         the DynamoDB Streams reader behind `manage.py run_deliveries`
    processes      starting the store, the API and the commands as processes (tests, benchmarks)
    lambda_probe   API Gateway events, and a cold start from an unzipped Lambda package
"""
