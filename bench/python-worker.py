"""The Python worker of bench/remote.ts: no-op jobs through docket_client.

    python3 bench/python-worker.py URL KEY QUEUE CONCURRENCY BATCH

Registers, prints "ready", starts on a line on stdin ("go"), and stops
(draining, deregistering) when stdin closes. BATCH is 1 for batched
completions (the default), 0 for one call per job.
"""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python", "src"))

from docket_client import Client, Worker  # noqa: E402

url, key, queue, concurrency, batch = sys.argv[1:6]
worker = Worker(Client(url, key), queues=[queue], concurrency=int(concurrency), batch_completions=batch == "1", claim_lanes=int(os.environ.get("BENCH_LANES", "2")))
worker.handle("noop", lambda job, ctx: None)
print("ready", flush=True)
sys.stdin.readline()
thread = worker.start()
sys.stdin.readline()  # EOF: the bench is done
worker.stop()
thread.join(30)
if os.environ.get("BENCH_VERBOSE"):
    t = os.times()
    print(f"python worker: {t.user + t.system:.2f} s CPU, {worker.client.transport.requests + worker._claim_transport.requests} requests, stats {worker.stats}", file=sys.stderr)
