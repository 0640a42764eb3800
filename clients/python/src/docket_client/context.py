"""What a handler gets beside its job: progress, logs, steps, upstream results, files, and cancellation.

Every report names the job's lease. Once the lease is lost (the job was
cancelled, the lease expired, another worker took the job over), ``cancelled``
is set, ``reason`` says why, and later reports are dropped, not sent: the
handler should stop when it sees ``ctx.cancelled.is_set()``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import IO, TYPE_CHECKING, Any, Callable, Dict, Iterator, List, NoReturn, Optional, TypeVar, Union, overload

from .errors import DocketError, LeaseLost
from .models import Artifact, ClaimedJob, Upstream

if TYPE_CHECKING:
    from ._protocol import Protocol
    from .client import Client

T = TypeVar("T")
log = logging.getLogger("docket_client")


class Snoozed(Exception):
    """Raised by ``ctx.snooze()`` to end the handler; the worker records nothing more for the job."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"snoozed for {seconds} s")
        self.seconds = seconds


class Lease:
    """One held lease: the token, when it was last extended, and whether (and why) it was lost."""

    def __init__(self, job: ClaimedJob, lease_ms: int) -> None:
        self.job = job
        self.lease_ms = lease_ms
        self.token = job.token
        self.extended = time.monotonic()
        self.cancelled = threading.Event()
        self.reason: Optional[str] = None
        self.running = False  # its handler is running (the worker's bookkeeping)

    def lose(self, reason: str) -> None:
        if not self.cancelled.is_set():
            self.reason = reason
            self.cancelled.set()


class JobContext:
    """The handler's second argument (``def handler(job, ctx)``)."""

    def __init__(self, client: "Client", protocol: "Protocol", lease: Lease, worker_id: str) -> None:
        self.job = lease.job
        self.worker_id = worker_id
        self._client = client
        self._protocol = protocol
        self._lease = lease

    @property
    def cancelled(self) -> threading.Event:
        """Set once the lease is lost (cancelled, expired, taken over, the worker shutting down)."""
        return self._lease.cancelled

    @property
    def reason(self) -> Optional[str]:
        """Why the lease was lost: ``cancelled``, ``expired``, ``taken-over``, ``released``, ``shutdown``, …"""
        return self._lease.reason

    @property
    def token(self) -> str:
        return self._lease.token

    def raise_if_cancelled(self) -> None:
        """Raises LeaseLost once the lease is lost: a handler's way to stop at a convenient point."""
        if self.cancelled.is_set():
            raise LeaseLost("LEASE_LOST", f"job {self.job.id}: {self.reason}", {"jobId": self.job.id, "reason": self.reason}, 409)

    def _report(self, send: Callable[[], None]) -> None:
        """Sends a report unless the lease is lost; a 409 LEASE_LOST marks it lost. Reports are best effort."""
        if self.cancelled.is_set():
            return
        try:
            send()
        except LeaseLost as error:
            self._lease.lose(error.reason)
        except DocketError as error:
            log.warning("docket: a report on job %s was not recorded: %s", self.job.id, error)

    def progress(self, percent: Optional[float] = None, message: Optional[str] = None, *, step: Optional[str] = None) -> None:
        """Progress on the job (0-100), with an optional message and current step."""
        fields: Dict[str, Any] = {}
        if percent is not None:
            fields["percent"] = percent
        if message is not None:
            fields["message"] = message
        if step is not None:
            fields["step"] = step
        self._report(lambda: self._protocol.progress(self.job.id, self.token, fields))

    def log(self, message: str, data: Any = None) -> None:
        """A line in the job's timeline, with optional JSON ``data``."""
        fields: Dict[str, Any] = {"message": message}
        if data is not None:
            fields["data"] = data
        self._report(lambda: self._protocol.event(self.job.id, self.token, "log", fields))

    def _step_event(self, kind: str, name: str, **fields: Any) -> None:
        body = {"step": name, **{k: v for k, v in fields.items() if v is not None}}
        self._report(lambda: self._protocol.event(self.job.id, self.token, kind, body))

    @contextlib.contextmanager
    def _step(self, name: str) -> Iterator[None]:
        self._step_event("step.started", name)
        started = time.monotonic()
        try:
            yield
        except BaseException as error:
            self._step_event("step.failed", name, message=str(error)[:2000], durationMs=_ms_since(started))
            raise
        self._step_event("step.completed", name, durationMs=_ms_since(started))

    @overload
    def step(self, name: str) -> "contextlib.AbstractContextManager[None]": ...

    @overload
    def step(self, name: str, fn: Callable[[], T]) -> T: ...

    def step(self, name: str, fn: Optional[Callable[[], T]] = None) -> Any:
        """A named step in the job's timeline: ``with ctx.step("split"):``, or ``ctx.step("split", fn)`` (runs fn, returns its value).

        The step's start, its end with its duration, or its failure are recorded.
        (Steps are not memoized across retries yet: that comes with the workflow routes.)
        """
        if fn is None:
            return self._step(name)
        with self._step(name):
            return fn()

    def heartbeat(self) -> None:
        """Extends the lease now (the worker does it in the background already)."""
        self._lease.extended = time.monotonic()
        self._report(lambda: self._protocol.heartbeat(self.job.id, self.token, self._lease.lease_ms))

    def snooze(self, seconds: float) -> NoReturn:
        """Runs the job again after ``seconds`` without spending this attempt, and ends the handler here.

        The lease is given back at once; nothing the handler would do after it is recorded.
        """
        self._protocol.snooze(self.job.id, self.token, int(seconds * 1000))
        self._lease.lose("snoozed")
        raise Snoozed(seconds)

    def upstream(self) -> List[Upstream]:
        """The jobs this one depends on, with their status and (once completed) results."""
        return [Upstream.from_json(u) for u in self._protocol.upstream(self.job.id, self.token)]

    def artifacts(self, direction: Optional[str] = None) -> List[Artifact]:
        """The job's files: its inputs and the outputs written so far (``direction``: ``"input"`` or ``"output"``)."""
        files = self._client.artifacts(self.job.id, token=self.token)
        return [a for a in files if direction is None or a.direction == direction]

    def read_artifact(
        self,
        name: Union[str, Artifact],
        dest: Union[str, "os.PathLike[str]", IO[bytes], None] = None,
    ) -> Any:
        """An input (or output) file's bytes by name (or Artifact); streamed to ``dest`` when given."""
        artifact = name if isinstance(name, Artifact) else self._find(name)
        return self._client.download(artifact, dest, token=self.token)

    def _find(self, name: str) -> Artifact:
        files = self.artifacts()
        for artifact in files:
            if artifact.name == name and artifact.direction == "input":
                return artifact
        for artifact in files:
            if artifact.name == name:
                return artifact
        raise DocketError("NOT_FOUND", f"job {self.job.id} has no file named {name!r}", {"resource": "artifact", "id": name}, 404)

    def write_artifact(
        self,
        name: str,
        data: Union[bytes, str, "os.PathLike[str]", IO[bytes]],
        media_type: Optional[str] = None,
    ) -> Artifact:
        """Stores an output file: ``bytes``, a ``str`` (its text, as UTF-8), a path (``pathlib.Path``), or an open binary file.

        ``media_type`` defaults to what the name says (``.json`` application/json, …).
        """
        opened = isinstance(data, os.PathLike)
        if isinstance(data, str):
            source: Any = data.encode("utf-8")
            media_type = media_type or (None if os.path.splitext(name)[1] else "text/plain")
        elif isinstance(data, os.PathLike):
            source = open(os.fspath(data), "rb")
        else:
            source = data
        try:
            item = (name, source, media_type) if media_type else (name, source)
            answer = self._client._multipart(f"/api/v1/jobs/{self.job.id}/artifacts", {"token": self.token}, [item])
        finally:
            if opened:
                source.close()
        return Artifact.from_json(answer["artifacts"][0])


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
