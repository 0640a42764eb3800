"""The Worker against a real server: handlers, reports, outcomes, lost leases, batching, shutdown."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from conftest import until

from docket_client import Client, RetryAfter, Unrecoverable, Worker


def run_in_background(worker: Worker) -> threading.Thread:
    thread = worker.start()
    until(lambda: worker.id, what="the worker to register")
    return thread


def test_the_issue_example_end_to_end(admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue], concurrency=4, capabilities=["gpu"])

    @worker.task("analyse")
    def analyse(job, ctx):
        ctx.progress(10, "splitting")
        with ctx.step("split"):
            pages = job.payload["name"].split(".")
        ctx.log("split done", {"pages": len(pages)})
        words = ctx.step("count", lambda: sum(len(p) for p in pages))
        ctx.progress(100, "done")
        return {"pages": len(pages), "chars": words}

    thread = run_in_background(worker)
    try:
        job = admin.add(queue, "analyse", {"name": "deck.pdf"}, priority="high", capabilities=["gpu"])
        done = admin.wait(job.id, timeout=20)
        assert done.status == "completed"
        assert done.result == {"pages": 2, "chars": 7}
        kinds = [(e["kind"], e.get("step")) for e in done.events if e["kind"].startswith("step.")]
        assert kinds == [("step.started", "split"), ("step.completed", "split"), ("step.started", "count"), ("step.completed", "count")]
        assert [e["percent"] for e in done.events if e["kind"] == "progress"] == [10, 100]
        assert any(e["kind"] == "log" and e["message"] == "split done" for e in done.events)
        assert done.priority > 50
    finally:
        worker.stop()
        thread.join(10)
    assert not thread.is_alive()
    registry = {w["id"]: w for w in admin.workers()}
    assert registry[worker.id]["status"] == "stopped"


def test_outcomes_unrecoverable_retry_after_and_retried_errors(admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue], concurrency=3)
    attempts = {"flaky": 0}

    @worker.task()
    def broken(job, ctx):
        raise Unrecoverable("bad input")

    @worker.task()
    def later(job, ctx):
        raise RetryAfter(3600, "upstream said 429")

    @worker.task()
    def flaky(job, ctx):
        attempts["flaky"] += 1
        if attempts["flaky"] == 1:
            raise RuntimeError("first time fails")
        return "second time works"

    thread = run_in_background(worker)
    try:
        a = admin.add(queue, "broken", max_attempts=5)
        b = admin.add(queue, "later", max_attempts=5)
        c = admin.add(queue, "flaky", max_attempts=3, backoff={"type": "fixed", "delay": 0})
        d = admin.add(queue, "unknown-type", max_attempts=5)
        failed = admin.wait(a.id, timeout=20)
        assert failed.status == "failed" and failed.attempts == 1
        assert failed.last_error["message"] == "bad input" and failed.last_error["retryable"] is False
        until(lambda: admin.get(b.id).status == "scheduled", what="the RetryAfter job to be scheduled")
        scheduled = admin.get(b.id)
        assert (scheduled.run_at - datetime.now(timezone.utc)).total_seconds() > 3000
        assert admin.wait(c.id, timeout=20).result == "second time works"
        unknown = admin.wait(d.id, timeout=20)
        assert unknown.status == "failed" and "no handler" in unknown.last_error["message"]
    finally:
        worker.stop()
        thread.join(10)


def test_a_cancelled_job_sets_ctx_cancelled_and_drops_later_reports(admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue], lease=3)
    started = threading.Event()
    seen = {}

    @worker.task()
    def long(job, ctx):
        started.set()
        ctx.cancelled.wait(10)
        seen["reason"] = ctx.reason
        ctx.progress(99, "after the cancel")  # dropped: never sent
        return "too late"

    thread = run_in_background(worker)
    try:
        job = admin.add(queue, "long")
        assert started.wait(10)
        admin.cancel(job.id)
        until(lambda: "reason" in seen, what="the handler to see the cancel")
        assert seen["reason"] == "cancelled"
        time.sleep(0.3)
        after = admin.get(job.id)
        assert after.status == "cancelled" and after.result is None
        assert not any(e["kind"] == "progress" for e in after.events)
    finally:
        worker.stop()
        thread.join(10)


def test_snooze_gives_the_attempt_back_and_runs_the_job_again_later(admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue])
    runs = []

    @worker.task()
    def later(job, ctx):
        runs.append(job.attempts)
        if len(runs) == 1:
            ctx.snooze(0.2)
            raise AssertionError("not reached")
        return "after the snooze"

    thread = run_in_background(worker)
    try:
        job = admin.add(queue, "later", max_attempts=1)
        done = admin.wait(job.id, timeout=20)
        assert done.status == "completed" and done.result == "after the snooze"
        assert runs == [1, 1]  # the snoozed attempt was given back
    finally:
        worker.stop()
        thread.join(10)


def test_upstream_results_and_files(admin: Client, worker_client: Client, queue: str, tmp_path) -> None:
    worker = Worker(worker_client, queues=[queue], concurrency=2)

    @worker.task()
    def page(job, ctx):
        text = ctx.read_artifact("page.txt").decode()
        ctx.write_artifact("words.json", b'{"n": %d}' % len(text.split()))
        ctx.write_artifact("note.txt", "written as text")
        return {"words": len(text.split())}

    @worker.task()
    def merge(job, ctx):
        ups = ctx.upstream()
        return {"total": sum(u.result["words"] for u in ups), "statuses": sorted(u.status for u in ups)}

    thread = run_in_background(worker)
    try:
        source = tmp_path / "page.txt"
        source.write_text("one two three")
        first, files = admin.upload(queue, "page", [str(source)])
        assert [f.name for f in files] == ["page.txt"]
        second, _ = admin.upload(queue, "page", [("page.txt", b"four five")])
        merged = admin.add(queue, "merge", depends_on=[first, second.id])
        done = admin.wait(merged.id, timeout=20)
        assert done.result == {"total": 5, "statuses": ["completed", "completed"]}
        outputs = {a.name: a for a in admin.get(first.id).artifacts if a.direction == "output"}
        assert admin.download(outputs["words.json"]) == b'{"n": 3}'
        assert outputs["note.txt"].media_type.startswith("text/plain")
        dest = tmp_path / "copy.json"
        assert admin.download(outputs["words.json"].id, str(dest)) == str(dest)
        assert dest.read_bytes() == b'{"n": 3}'
    finally:
        worker.stop()
        thread.join(10)


def test_completions_are_batched_into_the_claims(admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue], concurrency=10)
    worker.handle("noop", lambda job, ctx: job.payload["i"])
    n = 200
    jobs = admin.add_many([{"queue": queue, "type": "noop", "payload": {"i": i}} for i in range(n)])
    before = worker_client.transport.requests + worker._claim_transport.requests
    thread = run_in_background(worker)
    try:
        until(lambda: admin.count(queue=queue, status="completed") == n, timeout=30, what="every job to complete")
    finally:
        worker.stop()
        thread.join(10)
    sent = worker_client.transport.requests + worker._claim_transport.requests - before
    # One round trip per batch, not one or two per job.
    assert sent < n / 2, f"{sent} requests for {n} jobs"
    assert worker.stats["completed"] == n
    assert {admin.get(j.id).result for j in jobs[:5]} == {0, 1, 2, 3, 4}


def test_graceful_stop_finishes_running_jobs_and_hands_back_nothing_unstarted(admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue], concurrency=1, poll=20)
    started = threading.Event()

    @worker.task()
    def slow(job, ctx):
        started.set()
        time.sleep(0.5)
        return "finished while stopping"

    thread = run_in_background(worker)
    running = admin.add(queue, "slow")
    assert started.wait(10)
    queued = admin.add(queue, "slow")  # waits: the only slot is busy
    worker.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert admin.get(running.id).result == "finished while stopping"
    assert admin.get(queued.id).status == "waiting"


def test_a_stop_during_a_long_poll_returns_at_once_and_leaves_nothing_leased(admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue], poll=20)
    worker.handle("x", lambda job, ctx: None)
    thread = run_in_background(worker)
    time.sleep(0.3)  # the claim is now held by the server
    begun = time.monotonic()
    worker.stop()
    thread.join(10)
    assert time.monotonic() - begun < 3
    job = admin.add(queue, "x")
    time.sleep(0.2)
    assert admin.get(job.id).status == "waiting"


def test_stop_from_a_thread_and_no_signal_handlers_outside_the_main_thread(worker_client: Client, queue: str) -> None:
    import signal

    before = signal.getsignal(signal.SIGTERM)
    worker = Worker(worker_client, queues=[queue])
    thread = run_in_background(worker)
    assert signal.getsignal(signal.SIGTERM) is before
    threading.Thread(target=worker.stop).start()
    thread.join(10)
    assert not thread.is_alive()


def test_a_worker_that_was_deregistered_registers_again_and_goes_on(admin: Client, worker_client: Client, queue: str) -> None:
    worker = Worker(worker_client, queues=[queue], poll=0.2)
    worker.handle("t", lambda job, ctx: "still serving")
    thread = run_in_background(worker)
    try:
        admin.call("DELETE", f"/api/v1/workers/{worker.id}")  # as if it had been marked lost
        job = admin.add(queue, "t")
        assert admin.wait(job.id, timeout=20).result == "still serving"
        assert {w["id"]: w["status"] for w in admin.workers()}[worker.id] == "up"
    finally:
        worker.stop()
        thread.join(10)


@pytest.mark.parametrize("batch", [False])
def test_per_job_completion_when_batching_is_off(admin: Client, worker_client: Client, queue: str, batch: bool) -> None:
    worker = Worker(worker_client, queues=[queue], concurrency=2, batch_completions=batch)
    worker.handle("noop", lambda job, ctx: "ok")
    thread = run_in_background(worker)
    try:
        job = admin.add(queue, "noop")
        assert admin.wait(job.id, timeout=20).result == "ok"
    finally:
        worker.stop()
        thread.join(10)
