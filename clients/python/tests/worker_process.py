"""A worker in a process of its own, for the tests that kill it or signal it.

    python3 worker_process.py URL KEY QUEUE LEASE_SECONDS WORK_SECONDS

Prints "docket: worker <id> registered for <queue>", then "started <job id>" as each handler begins;
each job sleeps WORK_SECONDS and completes with {"by": <pid>}.
"""

import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from docket_client import Client, Worker  # noqa: E402

url, key, queue, lease, work = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
worker = Worker(Client(url, key), queues=[queue], concurrency=2, lease=lease, poll=5, heartbeat=0.5)


@worker.task("*")
def handle(job, ctx):
    print("started", job.id, flush=True)
    time.sleep(work)
    return {"by": os.getpid()}


logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
worker.run()
print("exited cleanly", flush=True)
