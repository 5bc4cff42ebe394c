"""The RESULTS block `make bench` ends with: the table of scenarios, then every other
section's lines, as docs/PERFORMANCE.md quotes them."""

from bench.harness import CONCURRENCY, SECONDS, THREADS, WORKERS, Measured
from bench.scenarios import Row


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    print()
    print("| scenario | rate | p50 ms | p99 ms | floor | ratio | target | met? | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        m = row.measured
        target = f">= {row.target:g}x" if row.target else "-"
        print(
            f"| {row.name} | {m.rate:.0f} {row.unit} | {m.p50:.1f} | {m.p99:.1f} | {fmt(row.floor)} "
            f"| {fmt(row.ratio, 2)} | {target} | {row.met or '-'} | {row.note} |"
        )


def print_results(
    rows: list[Row], health: Measured, single: Measured, calls: list[tuple], cpu: list[str], extra: list[str]
) -> None:
    print("\n" + "=" * 100)
    print(f"RESULTS ({SECONDS:g} s per scenario, {CONCURRENCY} client threads, gunicorn {WORKERS}x{THREADS})")
    print_table(rows)
    client_ms = single.client_cpu / max(1, single.requests) * 1000
    print(
        f"\nload generator: {health.rate:.0f} req/s on /health; {client_ms:.2f} ms of client CPU per single "
        f"ingest ({single.client_cpu / single.seconds * 100:.0f}% of one core during that scenario)"
    )
    print("\n3. store calls per API operation (server access log, successful requests)")
    print("| operation | median | max | requests | target |")
    print("|---|---|---|---|---|")
    for name, median, most, n, target in calls:
        print(f"| {name} | {median} | {most} | {n} | {target} |")
    print("\n3b. app CPU per request (WSGI app in process, store stubbed or moto, store's CPU subtracted)")
    for line in cpu + extra:
        print(line)
