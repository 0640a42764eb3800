"""AsyncWorker: async def handlers on asyncio, with the same context, outcomes and shutdown."""

from __future__ import annotations

import asyncio
import threading

from conftest import until

from docket_client import AsyncWorker, Client, Unrecoverable


def test_async_handlers_report_and_complete(admin: Client, worker_client: Client, queue: str) -> None:
    worker = AsyncWorker(worker_client, queues=[queue], concurrency=5, lease=3)
    seen = {}

    @worker.task()
    async def fetch(job, ctx):
        await ctx.progress(10, "fetching")
        async with ctx.step("download"):
            await asyncio.sleep(0.05)
        size = await ctx.step("measure", lambda: asyncio.sleep(0, result=42))
        await ctx.log("fetched", {"size": size})
        return {"size": size, "on": threading.current_thread().name}

    @worker.task()
    async def refuse(job, ctx):
        raise Unrecoverable("not this one")

    @worker.task()
    def plain(job, ctx):
        ctx.progress(50)
        return "a plain def runs too"

    @worker.task()
    async def long(job, ctx):
        seen["reason"] = await ctx.wait_cancelled()
        return "dropped"

    thread = worker.start()
    try:
        a = admin.add(queue, "fetch")
        b = admin.add(queue, "refuse")
        c = admin.add(queue, "plain")
        d = admin.add(queue, "long")
        done = admin.wait(a.id, timeout=20)
        assert done.result["size"] == 42
        assert [e.get("step") for e in done.events if e["kind"] == "step.completed"] == ["download", "measure"]
        assert [e["percent"] for e in done.events if e["kind"] == "progress"] == [10]
        assert admin.wait(b.id, timeout=20).last_error["retryable"] is False
        assert admin.wait(c.id, timeout=20).result == "a plain def runs too"
        until(lambda: admin.get(d.id).status == "active", what="the long job to start")
        admin.cancel(d.id)
        until(lambda: "reason" in seen, timeout=15, what="the async handler to see the cancel")
        assert seen["reason"] == "cancelled"
    finally:
        worker.stop()
        thread.join(10)
    assert not thread.is_alive()
