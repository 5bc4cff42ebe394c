"""What a server holds of waiting claims before other tenants feel them: a quiet tenant's
request latency (p50/p99, a paced ingest-and-read loop) alone, then beside 1, 2, 3... noisy
tenants each at its cap of waiting claims (10 workers long-polling with wait_seconds 20 on an
empty inbox), on one gunicorn configuration.

    python -m bench.waiting                        # make run's server (devstack.processes)
    python -m bench.waiting --threads 8 --per-process 0 --noisy 1   # the old 1 x 8, no bound

A noisy tenant's claims that the server refuses (429 over the tenant's cap, 503 over the
process's bound) are counted and retried after their Retry-After, as the worker does."""

import argparse
import json
import threading
import time
import uuid

from bench.harness import percentile
from devstack.processes import (
    API_THREADS,
    WAITING_CLAIMS_PER_PROCESS,
    Api,
    manage,
    server_env,
    start_api,
    start_store,
)

CAP = 10
# Workers do not all start in the same millisecond; a herd of 40 claims arriving together at a
# cold process is slow for everyone for seconds (every thread's first store calls at once).
STAGGER_SECONDS = 0.1


def key_for(env: dict, tenant: str) -> str:
    return json.loads(manage(env, "issue_key", tenant, "--json"))["key"]


def long_poll(api: Api, stop: threading.Event, refused: dict) -> None:
    """One idle worker: claims with wait_seconds 20 until stopped."""
    while not stop.is_set():
        response = api.post("/v1/events/claim", json={"wait_seconds": 20})
        if response.status_code != 200:
            refused[response.status_code] = refused.get(response.status_code, 0) + 1
            stop.wait(float(response.headers.get("Retry-After", 1)))


def quiet_latencies(api: Api, seconds: float, pace: float) -> list[float]:
    """An ingest then a read of the event, every `pace` seconds: each request's latency, ms."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        created = api.post("/v1/events", json={"event_type": "quiet"})
        latencies.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        read = api.get(f"/v1/events/{created.json()['id']}")
        latencies.append((time.perf_counter() - started) * 1000)
        assert (created.status_code, read.status_code) == (201, 200), (created.text, read.text)
        time.sleep(max(0.0, pace - (time.perf_counter() - started)))
    return latencies


def beside_noisy(quiet: Api, env: dict, noisy: int, seconds: float, pace: float) -> tuple[list[float], dict]:
    """The quiet tenant's latencies while `noisy` tenants each keep CAP claims waiting."""
    stop, refused, workers = threading.Event(), {}, []
    for _ in range(noisy):
        key = key_for(env, f"noisy-{uuid.uuid4().hex[:6]}")
        workers += [
            threading.Thread(target=long_poll, args=(Api(quiet.base_url, key), stop, refused)) for _ in range(CAP)
        ]
    for worker in workers:
        worker.start()
        time.sleep(STAGGER_SECONDS)
    time.sleep(1)  # the last noisy claims have started waiting
    try:
        return quiet_latencies(quiet, seconds, pace), refused
    finally:
        stop.set()
        for worker in workers:
            worker.join()


def one_row(args, noisy: int) -> tuple[list[float], list[float], dict]:
    """The quiet tenant alone, then beside the noisy ones, on a fresh stack: paired, as the
    machine's speed drifts; fresh, as moto's index queries read the whole table, so a table
    grown by the rows before would slow the polls of later rows (DynamoDB's would not)."""
    store, store_url = start_store()
    try:
        env = server_env(store_url, WAITING_CLAIMS_PER_PROCESS=str(args.per_process))
        manage(env, "create_tables")
        api, url = start_api(env, workers=args.workers, threads=args.threads)
        try:
            quiet = Api(url, key_for(env, "quiet"))
            quiet.get("/v1/me")  # warm: the key cache
            alone = quiet_latencies(quiet, args.seconds, args.pace)
            beside, refused = beside_noisy(quiet, env, noisy, args.seconds, args.pace)
            return alone, beside, refused
        finally:
            api.stop()
    finally:
        store.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=API_THREADS)
    parser.add_argument("--per-process", type=int, default=WAITING_CLAIMS_PER_PROCESS)
    parser.add_argument("--noisy", type=int, nargs="+", default=[1, 2, 3], help="noisy tenants at their cap")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pace", type=float, default=0.05, help="seconds between the quiet tenant's pairs")
    args = parser.parse_args()
    print(f"gunicorn {args.workers} x {args.threads} gthread, at most {args.per_process or 'any'} waiting per process")
    print("noisy claims | quiet alone p50 / p99 / max ms | beside them p50 / p99 / max ms | refused")
    for noisy in args.noisy:
        alone, beside, refused = one_row(args, noisy)
        print(
            f"{noisy * CAP:>3} ({noisy} tenants) | {summary(alone)} | {summary(beside)} | {refused or '-'}", flush=True
        )


def summary(latencies: list[float]) -> str:
    return f"{percentile(latencies, 50):6.1f} / {percentile(latencies, 99):6.1f} / {max(latencies):7.0f}"


if __name__ == "__main__":
    main()
