"""AsyncWorker: the Worker for ``async def`` handlers, on asyncio (standard library only).

    worker = AsyncWorker(client, queues=["documents"], concurrency=50)

    @worker.task("fetch")
    async def fetch(job, ctx):
        await ctx.progress(10, "fetching")
        async with ctx.step("download"):
            body = await download(job.payload["url"])
        return {"bytes": len(body)}

    asyncio.run(worker.run_async())     # or worker.run()

Handlers run on the event loop; claims, heartbeats and completions run in
the worker's threads as for Worker, and each report of the context runs in
the loop's executor, so no handler blocks the loop on HTTP. A plain ``def``
handler also works: it runs in the executor with a plain JobContext.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import threading
import time
from typing import IO, Any, AsyncIterator, Awaitable, Callable, List, Optional, Union

from .context import JobContext, Snoozed
from .models import Artifact, ClaimedJob, Upstream
from .worker import Worker


class AsyncJobContext:
    """The async handler's ``ctx``: JobContext's calls, each awaitable (and sent even when not awaited)."""

    def __init__(self, ctx: JobContext, loop: asyncio.AbstractEventLoop) -> None:
        self.sync = ctx
        self.job = ctx.job
        self.worker_id = ctx.worker_id
        self._loop = loop

    @property
    def cancelled(self) -> threading.Event:
        return self.sync.cancelled

    @property
    def reason(self) -> Optional[str]:
        return self.sync.reason

    @property
    def token(self) -> str:
        return self.sync.token

    def raise_if_cancelled(self) -> None:
        self.sync.raise_if_cancelled()

    async def wait_cancelled(self, poll: float = 0.05) -> str:
        """Returns (the reason) once the lease is lost."""
        while not self.cancelled.is_set():
            await asyncio.sleep(poll)
        return self.reason or ""

    def _run(self, fn: Callable[..., Any], *args: Any) -> "asyncio.Future[Any]":
        return self._loop.run_in_executor(None, fn, *args)

    def progress(self, percent: Optional[float] = None, message: Optional[str] = None, *, step: Optional[str] = None) -> "asyncio.Future[None]":
        return self._run(lambda: self.sync.progress(percent, message, step=step))

    def log(self, message: str, data: Any = None) -> "asyncio.Future[None]":
        return self._run(self.sync.log, message, data)

    def heartbeat(self) -> "asyncio.Future[None]":
        return self._run(self.sync.heartbeat)

    async def snooze(self, seconds: float) -> None:
        """``await ctx.snooze(60)``: runs the job again later without spending this attempt; ends the handler."""
        await self._run(self._snooze_quietly, seconds)
        self.sync.raise_if_cancelled()

    def _snooze_quietly(self, seconds: float) -> None:
        try:
            self.sync.snooze(seconds)
        except Snoozed:
            pass

    def upstream(self) -> "asyncio.Future[List[Upstream]]":
        return self._run(self.sync.upstream)

    def artifacts(self, direction: Optional[str] = None) -> "asyncio.Future[List[Artifact]]":
        return self._run(self.sync.artifacts, direction)

    def read_artifact(self, name: Union[str, Artifact], dest: Any = None) -> "asyncio.Future[Any]":
        return self._run(self.sync.read_artifact, name, dest)

    def write_artifact(self, name: str, data: Union[bytes, str, IO[bytes]], media_type: Optional[str] = None) -> "asyncio.Future[Artifact]":
        return self._run(self.sync.write_artifact, name, data, media_type)

    @contextlib.asynccontextmanager
    async def _step(self, name: str) -> AsyncIterator[None]:
        await self._run(self.sync._step_event, "step.started", name)
        started = time.monotonic()
        try:
            yield
        except BaseException as error:
            ms = int((time.monotonic() - started) * 1000)
            await self._run(lambda: self.sync._step_event("step.failed", name, message=str(error)[:2000], durationMs=ms))
            raise
        ms = int((time.monotonic() - started) * 1000)
        await self._run(lambda: self.sync._step_event("step.completed", name, durationMs=ms))

    def step(self, name: str, fn: Optional[Callable[[], Awaitable[Any]]] = None) -> Any:
        """``async with ctx.step("download"):``, or ``await ctx.step("download", coroutine_function)``."""
        if fn is None:
            return self._step(name)

        async def run() -> Any:
            async with self._step(name):
                return await fn()

        return run()


class AsyncWorker(Worker):
    """Worker for ``async def handler(job, ctx)``; see the module's docstring."""

    _loop: Optional[asyncio.AbstractEventLoop] = None

    def run(self) -> None:
        """Runs an event loop of its own until stopped (asyncio.run)."""
        asyncio.run(self.run_async())

    async def run_async(self) -> None:
        """Serves on the running loop until stop() (or SIGINT/SIGTERM when the loop is the main thread's)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        installed: List[int] = []
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(s, lambda: self.stop(wait=False))
                    installed.append(s)
                except (NotImplementedError, RuntimeError):
                    pass
        try:
            # The claim loop and its drain block: they run in a thread of their own.
            await loop.run_in_executor(None, Worker.run, self)
        finally:
            for s in installed:
                loop.remove_signal_handler(s)

    def _submit(self, job: ClaimedJob, ctx: JobContext) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._execute_async(job, ctx), self._loop)

    async def _execute_async(self, job: ClaimedJob, ctx: JobContext) -> None:
        loop = asyncio.get_running_loop()
        result: Any = None
        error: Optional[BaseException] = None
        try:
            handler = self._handler_for(job)
            if inspect.iscoroutinefunction(handler):
                result = await handler(job, AsyncJobContext(ctx, loop))  # type: ignore[arg-type]
            else:
                result = await loop.run_in_executor(None, handler, job, ctx)
        except BaseException as e:  # noqa: B036 - every end of a handler is reported
            error = e
        await loop.run_in_executor(None, self._settle, ctx._lease, result, error)
