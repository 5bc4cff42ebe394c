"""`make run`'s server has the shape the waiting-claims tests and `bench.waiting` measure: one
process of API_THREADS threads, at most API_THREADS - REQUEST_THREADS of them waiting."""

from devstack import stack
from devstack.processes import API_THREADS, REQUEST_THREADS


def test_make_run_serves_one_process_whose_waiting_claims_leave_threads_for_requests(monkeypatch):
    monkeypatch.delenv("WAITING_CLAIMS_PER_PROCESS", raising=False)
    started = {}
    monkeypatch.setattr(stack.subprocess, "Popen", lambda args, env: started.update(args=args, env=env))

    stack.serve()

    args = started["args"]
    assert (args[args.index("--workers") + 1], args[args.index("--threads") + 1]) == ("1", str(API_THREADS))
    assert int(started["env"]["WAITING_CLAIMS_PER_PROCESS"]) == API_THREADS - REQUEST_THREADS > 0
