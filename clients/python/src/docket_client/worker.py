"""A remote worker: registers, long-polls for jobs up to its free slots, runs handlers, reports, finishes.

    worker = Worker(client, queues=["documents"], concurrency=4, capabilities=["gpu"])

    @worker.task("analyse")
    def analyse(job, ctx):
        ctx.progress(10, "splitting")
        return {"pages": 3}

    worker.run()   # blocks; SIGINT/SIGTERM (main thread) or worker.stop() drain and leave

Threads: one claims (its own connection, so that stop() can break its long
poll), one heartbeats (the worker, and each lease every lease/3), one sends
completions that would otherwise wait for a long poll, and a pool of
``concurrency`` runs handlers. Completions are batched: a claim carries the
completions gathered since the last one (``complete: [...]``), so a busy
worker pays one round trip per batch; the rest go through POST /jobs/complete.
Failures are sent at once, each on its own.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence

from ._protocol import Protocol
from ._transport import Transport
from .client import Client
from .context import JobContext, Lease
from .errors import DocketError, InvalidArgument, LeaseLost, NotFound, RetryAfter, Unavailable, Unrecoverable
from .models import ClaimedJob

log = logging.getLogger("docket_client")

Handler = Callable[[ClaimedJob, JobContext], Any]

BULK_MAX = 500  # items per completion request (the server's limit)
CLAIM_MAX = 100  # jobs per claim (the server's limit)
CLAIM_GATHER = 0.005  # seconds a free slot waits for others before the claim goes (see _wait_for_slots)
FLUSH_AFTER = 0.02  # seconds a completion waits for a claim to take it along before it is sent on its own


class _Completion:
    __slots__ = ("lease", "result", "at")

    def __init__(self, lease: Lease, result: Any) -> None:
        self.lease = lease
        self.result = result
        self.at = time.monotonic()

    def item(self) -> Dict[str, Any]:
        return {"id": self.lease.job.id, "token": self.lease.token, "result": self.result}


class Worker:
    """Serves ``queues`` with up to ``concurrency`` jobs at once.

    ``lease``: seconds a claim holds a job before it must be extended (the
    worker extends it every lease/3 while the handler runs). ``poll``: seconds
    a claim waits on the server for a job (long poll, at most 30).
    ``heartbeat``: seconds between worker heartbeats. ``shutdown_timeout``:
    how long stop() waits for running handlers before it hands their jobs back.
    ``batch_completions=False`` completes each job with its own call.
    ``claim_lanes``: how many claims may be in flight at once (each for its
    share of the free slots), so that the server works on one while the
    worker handles the jobs of another.
    """

    def __init__(
        self,
        client: Client,
        queues: Sequence[str],
        *,
        concurrency: int = 1,
        capabilities: Sequence[str] = (),
        kind: str = "cpu",
        id: Optional[str] = None,
        host: Optional[str] = None,
        lease: float = 30.0,
        poll: float = 20.0,
        heartbeat: float = 5.0,
        shutdown_timeout: float = 30.0,
        batch_completions: bool = True,
        claim_lanes: int = 2,
        handlers: Optional[Dict[str, Handler]] = None,
    ) -> None:
        if not queues:
            raise ValueError("a worker needs at least one queue")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.queues = list(queues)
        self.concurrency = concurrency
        self.capabilities = list(capabilities)
        self.kind = kind
        self.host = host or socket.gethostname()
        self.lease_ms = max(50, int(lease * 1000))
        self.poll_ms = max(0, min(30_000, int(poll * 1000)))
        self.heartbeat_s = heartbeat
        self.shutdown_timeout = shutdown_timeout
        self.batch_completions = batch_completions
        self.claim_lanes = max(1, min(claim_lanes, concurrency))
        self._handlers: Dict[str, Handler] = dict(handlers or {})
        self._wanted_id = id
        self.id: Optional[str] = None
        # The claim loop's own connection: stop() breaks it to end a long poll at once.
        t = client.transport
        self._claim_transport = Transport(t.url, t._key, timeout=t.timeout, max_retries=t.max_retries, max_backoff=t.max_backoff)
        self._claims = Protocol(self._claim_transport)
        self._protocol = Protocol(t)
        self._cond = threading.Condition()
        self._running = 0
        self._leases: Dict[str, Lease] = {}  # every lease held: running, or its completion not yet acknowledged
        self._pending: List[_Completion] = []
        self._reserved = 0  # slots that claims in flight may fill
        self._register_lock = threading.Lock()
        self._last_note = ""
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._last_sends = threading.Event()  # the drain's turn: the completer sends what is left, then ends
        self._completer: Optional[threading.Thread] = None
        self._registered = threading.Event()
        self._pool: Optional[ThreadPoolExecutor] = None
        self._threads: List[threading.Thread] = []
        self._run_thread: Optional[threading.Thread] = None
        self._stats_lock = threading.Lock()
        self.stats = {"claimed": 0, "completed": 0, "failed": 0, "lost": 0, "released": 0}

    # Handlers

    def task(self, type: Optional[str] = None) -> Callable[[Handler], Handler]:
        """Decorator: the function handles jobs of ``type`` (default: its name; ``"*"``: any type without its own)."""

        def register(fn: Handler) -> Handler:
            self._handlers[type or fn.__name__] = fn
            return fn

        return register

    def handle(self, type: str, fn: Handler) -> None:
        self._handlers[type] = fn

    # Running

    def run(self) -> None:
        """Registers and serves until stop() (or SIGINT/SIGTERM, when run in the main thread); then drains and leaves."""
        self._run_thread = threading.current_thread()
        restore = self._install_signals()
        try:
            self._register()
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="docket-handler")
            self._spawn(self._heartbeat_loop, "docket-heartbeat")
            self._completer = self._spawn(self._completion_loop, "docket-completer")
            lanes = [threading.Thread(target=self._claim_loop, name=f"docket-claims-{i}", daemon=True) for i in range(1, self.claim_lanes)]
            for lane in lanes:
                lane.start()
            self._claim_loop()
            for lane in lanes:
                lane.join()
        finally:
            try:
                self._drain()
            finally:
                restore()
                self._done.set()

    def start(self) -> threading.Thread:
        """Runs the worker in a background thread (no signal handlers there); returns the thread."""
        thread = threading.Thread(target=self.run, name="docket-worker", daemon=True)
        thread.start()
        return thread

    def stop(self, wait: bool = True, timeout: Optional[float] = None) -> None:
        """Stops claiming, lets running handlers finish (up to shutdown_timeout), sends their results, hands back the rest, deregisters.

        ``wait``: return once all that is done (from any thread but the worker's own).
        """
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._claim_transport.interrupt()
        current = threading.current_thread()
        if wait and self._run_thread is not None and current is not self._run_thread and not current.name.startswith("docket-"):
            self._done.wait(timeout)

    @property
    def running(self) -> int:
        """How many handlers are running now."""
        return self._running

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {}

        def on_signal(signum: int, frame: Any) -> None:
            log.info("docket: %s received, draining (send it again to stop at once)", signal.Signals(signum).name)
            for s, handler in previous.items():
                signal.signal(s, handler)
            self.stop(wait=False)

        for s in (signal.SIGINT, signal.SIGTERM):
            previous[s] = signal.getsignal(s)
            signal.signal(s, on_signal)

        def restore() -> None:
            for s, handler in previous.items():
                if signal.getsignal(s) is on_signal:
                    signal.signal(s, handler)

        return restore

    def _spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    # The registry

    def _register(self) -> None:
        body: Dict[str, Any] = {
            "queues": self.queues,
            "capabilities": self.capabilities,
            "kind": self.kind,
            "host": self.host,
            "concurrency": self.concurrency,
        }
        if self.id or self._wanted_id:
            body["id"] = self.id or self._wanted_id
        failures = 0
        while True:
            try:
                self.id = self._claims.register(body)
                self._last_note = ""
                self._registered.set()
                log.info("docket: worker %s registered for %s", self.id, ", ".join(self.queues))
                return
            except (Unavailable, NotFound) as error:
                # A queue that does not exist yet (a server that refuses to register for it): wait for it.
                if self._stopping.is_set() or (isinstance(error, NotFound) and error.details.get("resource") != "queue"):
                    raise
                self._note("registration", error)
                failures += 1
                self._sleep(_backoff(failures))

    # Claims

    def _claim_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            with self._cond:
                self._wait_for_slots()
                if self._stopping.is_set():
                    return
                limit = min(self.concurrency - self._running - self._reserved, CLAIM_MAX)
                self._reserved += limit
                batch, self._pending = self._pending[:BULK_MAX], self._pending[BULK_MAX:]
            # The server holds the claim until a job comes (long poll); the completer sends what finishes meanwhile.
            try:
                jobs, outcomes, retry_after_ms = self._claims.claim(
                    self.id or "",
                    queues=self.queues,
                    capabilities=self.capabilities,
                    limit=limit,
                    lease_ms=self.lease_ms,
                    wait_ms=self.poll_ms,
                    complete=[c.item() for c in batch],
                )
                if failures:
                    failures, self._last_note = 0, ""
            except DocketError as error:
                self._unreserve(limit)
                if self._settle_refused(batch, error):
                    continue
                self._requeue(batch)
                if self._stopping.is_set():
                    return
                failures += 1
                if isinstance(error, NotFound) and error.details.get("resource") == "worker":
                    log.warning("docket: worker %s is not registered (marked lost?): registering again", self.id)
                    with self._register_lock:
                        self._register()
                    continue
                self._note("claim", error)
                self._sleep(_backoff(failures))
                continue
            except Exception as error:  # a bug, or an answer this client cannot read: keep serving
                self._unreserve(limit)
                self._requeue(batch)
                log.exception("docket: claim failed: %s", error)
                failures += 1
                self._sleep(_backoff(failures))
                continue
            self._acknowledge(batch, outcomes)
            dispatched = 0
            for j in jobs:
                try:
                    self._dispatch(ClaimedJob.from_json(j))
                    dispatched += 1
                except Exception:  # an unreadable job: its lease expires and it runs again elsewhere
                    log.exception("docket: could not start job %s", j.get("id"))
            self._unreserve(limit - dispatched)
            if not jobs and retry_after_ms:
                self._sleep(min(retry_after_ms / 1000, self.poll_ms / 1000 or 1))

    def _count(self, what: str) -> None:
        with self._stats_lock:
            self.stats[what] += 1

    def _note(self, what: str, error: DocketError) -> None:
        """Logs a refusal or an outage once, not at every retry."""
        text = f"docket: {what} failed, retrying: {error}"
        if text != self._last_note:
            self._last_note = text
            log.warning(text)

    def _wait_for_slots(self) -> None:
        """Waits (holding the condition) until a claim is worth its round trip.

        That is when a share of the slots is free (concurrency / (2 x claim
        lanes)), or every slot, or when a free slot has waited CLAIM_GATHER:
        jobs that finish together then go back, and the next come, in one
        claim rather than one claim each.
        """
        wanted = max(1, self.concurrency // (2 * self.claim_lanes))
        first_free: Optional[float] = None
        while not self._stopping.is_set():
            free = self.concurrency - self._running - self._reserved
            if free >= wanted or (free > 0 and self._running == 0):
                return
            if free > 0:
                now = time.monotonic()
                first_free = first_free or now
                if now - first_free >= CLAIM_GATHER:
                    return
                self._cond.wait(CLAIM_GATHER - (now - first_free))
            else:
                self._cond.wait()

    def _unreserve(self, slots: int) -> None:
        with self._cond:
            self._reserved -= slots
            self._cond.notify_all()

    def _dispatch(self, job: ClaimedJob) -> None:
        lease = Lease(job, self.lease_ms)
        if self._stopping.is_set():
            self._unreserve(1)
            self._release(lease)  # claimed as we stopped: never started
            return
        lease.running = True
        with self._cond:
            self._running += 1
            self._reserved -= 1
            self._leases[job.id] = lease
        self._count("claimed")
        ctx = JobContext(self.client, self._protocol, lease, self.id or "")
        self._submit(job, ctx)

    def _submit(self, job: ClaimedJob, ctx: JobContext) -> None:
        assert self._pool is not None
        self._pool.submit(self._execute, job, ctx)

    def _handler_for(self, job: ClaimedJob) -> Handler:
        handler = self._handlers.get(job.type) or self._handlers.get("*")
        if handler is None:
            raise Unrecoverable(f"no handler for job type {job.type!r} on worker {self.id}")
        return handler

    def _execute(self, job: ClaimedJob, ctx: JobContext) -> None:
        try:
            result = self._handler_for(job)(job, ctx)
        except BaseException as error:  # noqa: B036 - a handler's SystemExit must not kill the pool thread unreported
            self._settle(ctx._lease, None, error)
        else:
            self._settle(ctx._lease, result, None)

    # Outcomes

    def _settle(self, lease: Lease, result: Any, error: Optional[BaseException]) -> None:
        """Records a handler's end: queues its completion, or sends its failure; frees its slot."""
        try:
            if error is None:
                try:
                    json.dumps(result)
                except (TypeError, ValueError) as bad:
                    error = Unrecoverable(f"the handler's result is not JSON: {bad}")
            if lease.cancelled.is_set() or isinstance(error, LeaseLost):
                if isinstance(error, LeaseLost):
                    lease.lose(error.reason)
                self._count("lost")
                self._forget(lease)  # its lease is gone: whatever it produced is dropped
            elif error is None:
                if self.batch_completions:
                    with self._cond:
                        self._pending.append(_Completion(lease, result))
                else:
                    self._complete_one(lease, result)
            else:
                self._fail(lease, error)
        finally:
            lease.running = False
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def _complete_one(self, lease: Lease, result: Any) -> None:
        try:
            self._protocol.complete_one(lease.job.id, lease.token, result)
            self._count("completed")
        except LeaseLost as lost:
            lease.lose(lost.reason)
            self._count("lost")
        except DocketError as error:
            log.error("docket: job %s could not be completed (its lease will expire and it runs again): %s", lease.job.id, error)
        self._forget(lease)

    def _fail(self, lease: Lease, error: BaseException) -> None:
        retryable: Optional[bool] = False if isinstance(error, Unrecoverable) else None
        retry_in_ms = int(error.seconds * 1000) if isinstance(error, RetryAfter) else None
        body = {
            "message": (str(error) or type(error).__name__)[:10_000],
            "name": type(error).__name__,
            "stack": "".join(traceback.format_exception(type(error), error, error.__traceback__))[-20_000:],
        }
        for attempt in range(4):
            try:
                self._protocol.fail(lease.job.id, lease.token, body, retryable, retry_in_ms)
                self._count("failed")
                break
            except LeaseLost as lost:
                lease.lose(lost.reason)
                break
            except Unavailable:
                self._sleep(_backoff(attempt + 1))
            except DocketError as refused:
                log.error("docket: the failure of job %s was refused: %s", lease.job.id, refused)
                break
        self._forget(lease)

    def _forget(self, lease: Lease) -> None:
        with self._cond:
            if self._leases.get(lease.job.id) is lease:
                del self._leases[lease.job.id]

    def _acknowledge(self, batch: List[_Completion], outcomes: List[Dict[str, Any]]) -> None:
        for completion, outcome in zip(batch, outcomes):
            if outcome.get("ok") or outcome.get("reason") == "completed":
                self._count("completed")  # "completed": a resend of one whose answer was lost
            else:
                completion.lease.lose(str(outcome.get("reason")))
                self._count("lost")
                log.info("docket: job %s was not completed: lease lost (%s)", completion.lease.job.id, outcome.get("reason"))
            self._forget(completion.lease)

    def _requeue(self, batch: List[_Completion]) -> None:
        if batch:
            with self._cond:
                self._pending[:0] = batch

    _ITEM = re.compile(r"^body\.(?:items|complete)\.(\d+)\.result")

    def _settle_refused(self, batch: List[_Completion], error: DocketError) -> bool:
        """A 400 naming completions (a result over the payload limit): those jobs fail, the rest go again."""
        if not isinstance(error, InvalidArgument) or not batch:
            return False
        bad = {int(m.group(1)): issue.get("message", "") for issue in error.issues for m in [self._ITEM.match(issue.get("path", ""))] if m}
        if not bad:
            return False
        for i, completion in enumerate(batch):
            if i in bad:
                threading.Thread(target=self._fail, args=(completion.lease, Unrecoverable(f"invalid result: {bad[i]}")), daemon=True).start()
        self._requeue([c for i, c in enumerate(batch) if i not in bad])
        return True

    def _completion_loop(self) -> None:
        """Sends completions that no claim took along within FLUSH_AFTER (the claims are long polls), or at once when stopping."""
        failures = 0
        while True:
            with self._cond:
                while True:
                    if not self._pending and (self._last_sends.is_set() or self._done.is_set()):
                        return
                    if self._pending and self._stopping.is_set():
                        break
                    if self._pending:
                        age = time.monotonic() - self._pending[0].at
                        if age >= FLUSH_AFTER:
                            break
                        self._cond.wait(FLUSH_AFTER - age)
                        continue
                    self._cond.wait(0.5)
                batch, self._pending = self._pending[:BULK_MAX], self._pending[BULK_MAX:]
            if self._send_completions(batch):
                failures = 0
                continue
            failures += 1
            if self._last_sends.is_set() and failures > 5:
                log.warning("docket: %d completions not sent (their leases will expire and the jobs run again)", len(self._pending))
                return
            time.sleep(_backoff(failures))

    def _send_completions(self, batch: List[_Completion]) -> bool:
        try:
            outcomes = self._protocol.complete([c.item() for c in batch])
        except DocketError as error:
            if self._settle_refused(batch, error):
                return True
            log.warning("docket: completions not sent yet: %s", error)
            self._requeue(batch)
            return False
        self._acknowledge(batch, outcomes)
        return True

    # Heartbeats

    def _heartbeat_loop(self) -> None:
        tick = max(0.02, min(self.heartbeat_s, self.lease_ms / 3000) / 2)
        last_beat = time.monotonic()
        while not self._stopping.wait(tick):
            now = time.monotonic()
            if now - last_beat >= self.heartbeat_s:
                last_beat = now
                try:
                    self._protocol.beat(self.id or "", self._running)
                except NotFound:
                    pass  # the claim loop registers again on its next claim
                except DocketError as error:
                    log.debug("docket: worker heartbeat failed: %s", error)
            self._extend_leases(now)

    def _extend_leases(self, now: float) -> None:
        with self._cond:
            due = [lease for lease in self._leases.values() if now - lease.extended >= self.lease_ms / 3000 and not lease.cancelled.is_set()]
        for lease in due:
            try:
                lease.extended = now
                self._protocol.heartbeat(lease.job.id, lease.token, self.lease_ms)
            except LeaseLost as lost:
                lease.lose(lost.reason)
                log.info("docket: job %s: lease lost (%s)", lease.job.id, lost.reason)
            except DocketError as error:
                log.debug("docket: lease heartbeat of job %s failed: %s", lease.job.id, error)

    # Shutdown

    def _release(self, lease: Lease) -> None:
        try:
            self._protocol.release(lease.job.id, lease.token)
            self._count("released")
        except DocketError as error:
            log.debug("docket: job %s not released: %s", lease.job.id, error)

    def _drain(self) -> None:
        """After the claim loop: wait for handlers, send every completion, hand back the rest, deregister."""
        self._stopping.set()
        deadline = time.monotonic() + self.shutdown_timeout
        with self._cond:
            while self._running > 0 and time.monotonic() < deadline:
                self._cond.wait(max(0.0, min(0.5, deadline - time.monotonic())))
            late = [lease for lease in self._leases.values() if lease.running]
            self._last_sends.set()
            self._cond.notify_all()
        for lease in late:
            lease.lose("shutdown")  # still running past shutdown_timeout: its job goes back, its reports are dropped
        # The completer sends what is left (and what it has in flight) before the deregistration
        # below hands back every job still held: a completion sent after it would come too late.
        if self._completer is not None:
            self._completer.join(max(5.0, deadline - time.monotonic()))
        with self._cond:
            left, self._pending = self._pending, []
        if left:  # the completer gave up or never ran: one last try
            self._send_completions(left)
        if self.id is not None and self._registered.is_set():
            try:
                self._claims.deregister(self.id)
            except DocketError as error:
                log.warning("docket: could not deregister %s (its leases will expire): %s", self.id, error)
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        self._claim_transport.close()


def _backoff(failures: int) -> float:
    """0.1 s, 0.2 s, 0.4 s, … at most 2 s: a restarted server is found again within about 2 s."""
    return min(2.0, 0.05 * 2 ** min(failures, 6))

