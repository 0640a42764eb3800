"""The Client against a real server: jobs with every option, listing, files, the feed, queues, batches, schedules, errors."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from conftest import until

from docket_client import (
    Client,
    Conflict,
    DocketError,
    Forbidden,
    InvalidArgument,
    NotFound,
    RateLimited,
    Unauthenticated,
    WaitTimeout,
)


def test_add_takes_every_option(admin: Client, queue: str) -> None:
    parent = admin.add(queue, "parent", owner="alice")
    job_id = str(uuid.uuid4())
    job = admin.add(
        queue,
        "analyse",
        {"name": "deck.pdf"},
        id=job_id,
        priority="urgent",
        delay=timedelta(minutes=5),
        max_attempts=7,
        backoff={"type": "fixed", "delay": 2},
        timeout=90,
        owner="alice",
        group="g1",
        capabilities=["gpu"],
        dedupe_key="deck-1",
        dedupe_mode="keep",
        dedupe_ttl=600,
        depends_on=[(parent, "completion")],
        estimated_duration=12.5,
        expires_in=3600,
    )
    assert job.id == job_id
    raw = admin.get(job.id).raw
    assert raw["priority"] == 100 and raw["maxAttempts"] == 7 and raw["owner"] == "alice" and raw["group"] == "g1"
    assert raw["backoff"]["type"] == "fixed" and raw["backoff"]["delayMs"] == 2000
    assert raw["timeoutMs"] == 90_000 and raw["estimatedDurationMs"] == 12_500
    assert raw["capabilities"] == ["gpu"] and raw["dedupeKey"] == "deck-1"
    assert raw["status"] == "blocked"
    upstream = admin.get(job.id).dependencies["upstream"]
    assert [(u["id"], u["on"]) for u in upstream] == [(parent.id, "completion")]
    assert raw["expiresAt"] is not None
    # The same dedupe key (and owner) while the first is live: the first comes back.
    assert admin.add(queue, "analyse", dedupe_key="deck-1", owner="alice").id == job.id
    later = admin.add(queue, "at", run_at=datetime.now(timezone.utc) + timedelta(hours=1))
    assert later.status == "scheduled"
    # An option this client does not name yet goes through `extra`.
    assert admin.add(queue, "x", extra={"priority": 3}).priority == 3


def test_errors_carry_code_message_details_and_status(admin: Client, worker_client: Client, queue: str) -> None:
    with pytest.raises(NotFound) as missing:
        admin.get(str(uuid.uuid4()))
    assert missing.value.status == 404 and missing.value.details["resource"] == "job"
    with pytest.raises(InvalidArgument) as bad:
        admin.add(queue, "t", priority=900)
    assert bad.value.status == 400 and bad.value.issues[0]["path"].startswith("body.priority")
    job = admin.add(queue, "t")
    with pytest.raises(Conflict) as exists:
        admin.add(queue, "t", id=job.id)
    assert exists.value.code == "CONFLICT"
    with pytest.raises(Forbidden):
        worker_client.add(queue, "t")
    with pytest.raises(NotFound):
        admin.add("no-such-queue-" + uuid.uuid4().hex[:6], "t")
    with pytest.raises(Unauthenticated):
        Client(admin.url, "dk_not_a_key").queues()
    assert isinstance(missing.value, DocketError)


def test_rate_limited_carries_retry_after(server, admin: Client) -> None:
    # Failed authentications from one key prefix: past 20 a minute the server answers 429 with Retry-After.
    prefix = "dk_" + uuid.uuid4().hex[:6]
    bad = Client(admin.url, prefix + "_wrong", max_retries=0)
    with pytest.raises(RateLimited) as limited:
        for _ in range(40):
            try:
                bad.queues()
            except Unauthenticated:
                continue
    assert limited.value.status == 429 and limited.value.retry_after and limited.value.retry_after > 0
    assert admin.queues()  # a valid key is still served


def test_add_many_add_batch_list_search_and_actions(admin: Client, queue: str) -> None:
    jobs = admin.add_many([{"queue": queue, "type": "page", "payload": {"n": i, "tag": "alpha" if i % 2 else "beta"}} for i in range(25)])
    assert len(jobs) == 25
    seen = [j.id for j in admin.list(queue=queue, type="page", page_size=7, sort="createdAt", order="asc")]
    assert seen == [j.id for j in jobs]
    assert len(list(admin.list(queue=queue, max_items=3))) == 3
    assert admin.count(queue=queue, type="page") == 25
    found = list(admin.search("alpha", queue=queue))
    assert len(found) == 12
    assert len(list(admin.search(queue=queue, where="payload.n >= 20"))) == 5
    created = admin.add_batch(
        [{"queue": queue, "type": "page", "payload": {"p": 1}}, {"queue": queue, "type": "page", "payload": {"p": 2}}],
        name="deck",
        then={"queue": queue, "type": "summarise"},
    )
    assert created.batch.total == 2 and len(created.jobs) == 2 and created.then_job is not None
    assert created.then_job.status == "blocked"
    assert admin.batch(created.batch.id).name == "deck"
    assert any(b.id == created.batch.id for b in admin.batches())
    admin.cancel_batch(created.batch.id)
    assert admin.get(created.jobs[0].id).status == "cancelled"
    assert admin.retry(created.jobs[0].id).status == "waiting"
    cancelled = admin.cancel(jobs[0].id)
    assert cancelled.status == "cancelled"
    admin.delete(jobs[0].id)
    with pytest.raises(NotFound):
        admin.get(jobs[0].id)
    assert admin.set_priority(jobs[1].id, "high").priority > 50
    result = admin.act_on_jobs("cancel", ids=[jobs[2], jobs[3].id])
    assert result == {"matched": 2, "changed": 2}


def test_wait_returns_the_ended_job_and_times_out(admin: Client, worker_client: Client, queue: str) -> None:
    job = admin.add(queue, "t")
    with pytest.raises(WaitTimeout):
        admin.wait(job.id, timeout=0.3)
    threading.Timer(0.3, lambda: admin.cancel(job.id)).start()
    began = time.monotonic()
    done = admin.wait(job.id, timeout=10)
    assert done.status == "cancelled" and time.monotonic() - began < 5


def test_events_iterate_the_feed_and_resume_after_an_id(admin: Client, queue: str) -> None:
    first = admin.add(queue, "t")
    feed = admin.events(queue=queue, after=0)
    event = next(feed)
    assert event.kind == "job.added" and event.job_id == first.id
    feed.close()
    second = admin.add(queue, "t")
    # Resumed after the first event: the next is the second job's, nothing repeated.
    resumed = admin.events(queue=queue, after=event.id)
    again = next(resumed)
    assert again.job_id == second.id and again.id > event.id
    resumed.close()


def test_queues_and_schedules(admin: Client) -> None:
    name = "qs-" + uuid.uuid4().hex[:8]
    q = admin.create_queue(name, concurrency=3, mode="manual", retention=timedelta(days=7), rate_limit={"max": 100, "interval": 1})
    assert q.concurrency == 3 and q.mode == "manual"
    assert q.raw["retentionMs"] == 7 * 86_400_000 and q.raw["rateLimit"]["intervalMs"] == 1000
    assert admin.update_queue(name, concurrency=5).concurrency == 5
    assert admin.pause_queue(name).status == "paused"
    assert admin.resume_queue(name).status == "active"
    assert name in [x.name for x in admin.queues()]
    held = admin.add(name, "t")
    assert held.status == "held"
    admin.promote_queue(name)
    assert admin.get(held.id).status == "waiting"
    schedule = admin.create_schedule("nightly-" + uuid.uuid4().hex[:6], name, "report", {"x": 1}, every=3600, options={"priority": "high"})
    assert schedule.every_ms == 3_600_000 and schedule.enabled
    assert admin.pause_schedule(schedule.id).enabled is False
    assert admin.resume_schedule(schedule.id).enabled is True
    assert admin.update_schedule(schedule.id, cron="0 3 * * *", every=None, timezone="Europe/Berlin").cron == "0 3 * * *"
    admin.run_schedule(schedule.id)
    until(lambda: admin.count(queue=name, type="report") == 1, what="the schedule's run")
    assert any(s.id == schedule.id for s in admin.schedules())
    admin.delete_schedule(schedule.id)
    with pytest.raises(NotFound):
        admin.schedule(schedule.id)
    with pytest.raises(Conflict):
        admin.delete_queue(name)
    admin.delete_queue(name, force=True)
    with pytest.raises(NotFound):
        admin.queue(name)


def test_upload_streams_files_and_download_checks_them(admin: Client, queue: str, tmp_path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"line of text\n" * 50_000)  # 650 KB, sent in chunks
    with open(big, "rb") as handle:
        job, files = admin.upload(queue, "t", [handle, ("inline.json", b'{"a": 1}')], {"k": "v"}, priority="high")
    assert job.payload == {"k": "v"} and job.priority > 50
    assert [(f.name, f.media_type) for f in files] == [("big.txt", "text/plain"), ("inline.json", "application/json")]
    assert admin.download(files[0].id) == big.read_bytes()
    listed = admin.artifacts(job.id)
    assert {a.name for a in listed} == {"big.txt", "inline.json"}
