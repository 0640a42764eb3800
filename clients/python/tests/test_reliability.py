"""What a worker must survive: being killed mid-job, SIGTERM, and its server restarting under a long poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import List

from conftest import HERE, until

from docket_client import Client, Worker


def spawn(server, queue: str, lease: float, work: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "worker_process.py"), server.url, server.worker_key, queue, str(lease), str(work)],
        stdout=subprocess.PIPE,
        text=True,
    )
    return process


def read_until(process: subprocess.Popen, prefix: str, timeout: float = 15) -> str:
    """The first line of the process's output that starts with ``prefix``."""
    found: List[str] = []

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            if line.startswith(prefix):
                found.append(line.strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, f"no line starting {prefix!r} within {timeout} s"
    return found[0]


def test_a_worker_killed_mid_job_loses_it_to_another_and_no_result_is_doubled(server, admin: Client, worker_client: Client, queue: str) -> None:
    doomed = spawn(server, queue, lease=1.0, work=30)
    try:
        read_until(doomed, "docket: worker")
        job = admin.add(queue, "t", max_attempts=5)
        assert read_until(doomed, "started") == f"started {job.id}"
        doomed.kill()
        doomed.wait(5)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    rescuer = Worker(worker_client, queues=[queue], lease=5)
    rescuer.handle("t", lambda j, ctx: {"by": "rescuer"})
    thread = rescuer.start()
    try:
        # The killed worker's lease runs out (1 s), maintenance puts the job back, the rescuer takes it.
        done = admin.wait(job.id, timeout=20)
    finally:
        rescuer.stop()
        thread.join(10)
    assert done.status == "completed" and done.result == {"by": "rescuer"}
    history = [(a["attempt"], a["workerId"], a["outcome"]) for a in done.attempt_history]
    # The killed worker's attempt ended with its lease; only the last attempt completed, and only once.
    assert history[0][2] != "completed" and history[-1][2] == "completed", history
    assert [a for a in history if a[2] == "completed"] == [history[-1]], history
    assert sum(1 for e in done.events if e["kind"] == "state" and e.get("status") == "completed") == 1


def test_sigterm_lets_the_running_job_finish_then_deregisters(server, admin: Client, queue: str) -> None:
    process = spawn(server, queue, lease=5, work=0.8)
    try:
        worker_id = read_until(process, "docket: worker").split()[2]
        job = admin.add(queue, "t")
        read_until(process, "started")
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    done = admin.get(job.id)
    assert done.status == "completed" and done.result == {"by": process.pid}
    assert {w["id"]: w["status"] for w in admin.workers()}[worker_id] == "stopped"


def test_a_server_restart_under_a_long_poll_the_worker_and_the_feed_reconnect(server, admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue], poll=20, lease=10)
    worker.handle("t", lambda j, ctx: "after the restart")
    thread = worker.start()
    first = admin.add(queue, "t")
    assert admin.wait(first.id, timeout=20).status == "completed"
    last_seen = max(e["id"] for e in admin.get(first.id).events)
    feed: List[object] = []

    def follow() -> None:
        for event in Client(server.url, server.admin_key).events(queue=queue, after=last_seen):
            feed.append(event)
            if event.kind == "job.completed":
                return

    follower = threading.Thread(target=follow, daemon=True)
    try:
        until(lambda: worker.id, what="the worker to register")
        follower.start()
        time.sleep(0.3)  # the worker's claim is held by the server now, and the feed is open
        server.stop(kill=True)
        server.start()
        job = admin.add(queue, "t")
        done = admin.wait(job.id, timeout=20)
        assert done.status == "completed" and done.result == "after the restart"
        follower.join(15)
        # The feed came back after the last event it had seen: the new job's events, none of the first's, none twice.
        assert [e.kind for e in feed][-1] == "job.completed"
        assert {e.job_id for e in feed} == {job.id}
        assert len({e.id for e in feed}) == len(feed)
    finally:
        worker.stop()
        thread.join(10)
