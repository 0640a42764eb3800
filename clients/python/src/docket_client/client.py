"""The producer's and operator's client: jobs, files, the live feed, queues, batches and schedules.

    from docket_client import Client

    client = Client("http://127.0.0.1:8080", key)     # or DOCKET_URL / DOCKET_KEY
    job = client.add("documents", "analyse", {"name": "deck.pdf"}, priority="high")
    done = client.wait(job.id, timeout=60)
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
from datetime import datetime, timedelta
from typing import IO, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote

from ._options import api_fields, job_fields, job_spec
from ._streams import FileLike, Multipart, SseParser, parse_json
from ._transport import Transport
from .errors import DocketError, Unauthenticated, Unavailable, WaitTimeout
from .models import (
    Artifact,
    Batch,
    CreatedBatch,
    Event,
    Job,
    JobDetail,
    Queue,
    Schedule,
)

Seconds = Union[int, float, timedelta]
MAX_RESULT_WAIT_MS = 60_000  # the longest one GET /jobs/{id}/result may wait
When = Union[datetime, str, int]


class JobPage:
    """One page of ``Client.list_page``: ``jobs``, ``next_cursor`` (None on the last page) and ``count`` when asked for."""

    def __init__(self, jobs: List[Job], next_cursor: Optional[str], count: Optional[Dict[str, Any]]):
        self.jobs = jobs
        self.next_cursor = next_cursor
        self.count = count


def _id(value: Any) -> str:
    """A job (or anything with an ``id``) or an id, as a path segment."""
    text = value if isinstance(value, str) else str(getattr(value, "id", value))
    return quote(text, safe="")


class Client:
    """A Docket server over HTTP. Thread-safe: each thread keeps its own keep-alive connection.

    ``url`` and ``key`` default to the environment's ``DOCKET_URL`` (else
    http://127.0.0.1:8080) and ``DOCKET_KEY``. ``timeout`` bounds each call;
    a 429 (and a 503 with Retry-After) is retried after the server's
    Retry-After, at most ``max_retries`` times and ``max_backoff`` seconds a wait.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        key: Optional[str] = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        max_backoff: float = 30.0,
    ) -> None:
        url = url or os.environ.get("DOCKET_URL") or "http://127.0.0.1:8080"
        key = key if key is not None else os.environ.get("DOCKET_KEY")
        self.transport = Transport(url, key, timeout=timeout, max_retries=max_retries, max_backoff=max_backoff)

    @property
    def url(self) -> str:
        return self.transport.url

    def close(self) -> None:
        """Closes the connections (a later call opens new ones)."""
        self.transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def call(self, method: str, path: str, body: Any = None, *, query: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None) -> Any:
        """Any API call by path (``/api/v1/...``), JSON in and out: for routes this client has no method for."""
        return self.transport.request(method, path, query=query, json_body=body, timeout=timeout).json()

    def _api(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call(method, "/api/v1" + path, body, **kw)

    # Jobs

    def add(
        self,
        queue: str,
        type: str,
        payload: Any = None,
        *,
        id: Optional[str] = None,
        priority: Union[int, str, None] = None,
        run_at: Optional[When] = None,
        delay: Optional[Seconds] = None,
        max_attempts: Optional[int] = None,
        backoff: Optional[Mapping[str, Any]] = None,
        timeout: Optional[Seconds] = None,
        owner: Optional[str] = None,
        group: Optional[str] = None,
        capabilities: Optional[Sequence[str]] = None,
        dedupe_key: Optional[str] = None,
        dedupe_mode: Optional[str] = None,
        dedupe_ttl: Optional[Seconds] = None,
        depends_on: Optional[Iterable[Any]] = None,
        estimated_duration: Optional[Seconds] = None,
        expires_at: Optional[When] = None,
        expires_in: Optional[Seconds] = None,
        extra: Optional[Mapping[str, Any]] = None,
    ) -> Job:
        """Adds a job (POST /jobs). Durations are in seconds (or ``timedelta``); see docs/jobs.md for each option.

        ``priority``: 0-100 or ``"low" | "normal" | "high" | "urgent"``.
        ``backoff``: ``{"type": "exponential", "delay": 1, "max_delay": 60, "jitter": 0.2}``.
        ``depends_on``: job ids or jobs (wait for success), or ``(id, "completion")``.
        ``dedupe_mode``: ``"keep" | "replace" | "debounce"``. ``extra``: API fields sent as they are.
        """
        options = dict(
            id=id,
            priority=priority,
            run_at=run_at,
            delay=delay,
            max_attempts=max_attempts,
            backoff=backoff,
            timeout=timeout,
            owner=owner,
            group=group,
            capabilities=list(capabilities) if capabilities is not None else None,
            dedupe_key=dedupe_key,
            dedupe_mode=dedupe_mode,
            dedupe_ttl=dedupe_ttl,
            depends_on=depends_on,
            estimated_duration=estimated_duration,
            expires_at=expires_at,
            expires_in=expires_in,
            extra=extra,
        )
        return Job.from_json(self._api("POST", "/jobs", job_fields(queue, type, payload, options)))

    def add_many(self, jobs: Iterable[Mapping[str, Any]]) -> List[Job]:
        """Adds up to 1,000 jobs in one transaction, all or none (POST /jobs/bulk).

        Each is a dict of ``queue``, ``type``, ``payload`` and ``add``'s options.
        """
        body = {"jobs": [job_spec(j) for j in jobs]}
        return [Job.from_json(j) for j in self._api("POST", "/jobs/bulk", body)["jobs"]]

    def add_batch(
        self,
        jobs: Iterable[Mapping[str, Any]],
        *,
        name: Optional[str] = None,
        owner: Optional[str] = None,
        then: Optional[Mapping[str, Any]] = None,
    ) -> CreatedBatch:
        """Adds a batch of jobs in one transaction; ``then`` (a job dict) runs once every job of it is final."""
        body: Dict[str, Any] = {"jobs": [job_spec(j) for j in jobs]}
        if name is not None:
            body["name"] = name
        if owner is not None:
            body["owner"] = owner
        if then is not None:
            body["then"] = job_spec(then)
        answer = self._api("POST", "/batches", body)
        then_job = answer.get("thenJob")
        return CreatedBatch(
            batch=Batch.from_json(answer["batch"]),
            jobs=[Job.from_json(j) for j in answer["jobs"]],
            then_job=Job.from_json(then_job) if then_job else None,
        )

    def get(self, job_id: Any) -> JobDetail:
        """A job with its events, attempts, dependencies and files. NotFound if there is none (or it is someone else's)."""
        return JobDetail.from_json(self._api("GET", f"/jobs/{_id(job_id)}"))

    def list_page(
        self,
        *,
        queue: Optional[str] = None,
        status: Union[str, Sequence[str], None] = None,
        type: Optional[str] = None,
        owner: Optional[str] = None,
        batch_id: Optional[str] = None,
        fingerprint: Optional[str] = None,
        id: Optional[str] = None,
        search: Optional[str] = None,
        where: Optional[str] = None,
        sort: Optional[str] = None,
        order: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        count: bool = False,
    ) -> JobPage:
        """One page of GET /jobs; pass ``next_cursor`` back as ``cursor`` for the next."""
        query = api_fields(
            dict(queue=queue, status=status, type=type, owner=owner, batch_id=batch_id, fingerprint=fingerprint,
                 id=id, search=search, where=where, sort=sort, order=order, limit=limit, cursor=cursor,
                 count=count or None)
        )
        answer = self._api("GET", "/jobs", query=query)
        return JobPage([Job.from_json(j) for j in answer["jobs"]], answer.get("nextCursor"), answer.get("count"))

    def list(self, *, page_size: int = 100, max_items: Optional[int] = None, **filters: Any) -> Iterator[Job]:
        """Every job matching the filters of ``list_page``, page after page (keyset cursors), as an iterator."""
        cursor: Optional[str] = None
        seen = 0
        while True:
            page = self.list_page(limit=page_size, cursor=cursor, **filters)
            for job in page.jobs:
                if max_items is not None and seen >= max_items:
                    return
                seen += 1
                yield job
            if not page.next_cursor or not page.jobs:
                return
            cursor = page.next_cursor

    def search(self, text: Optional[str] = None, *, where: Optional[str] = None, **filters: Any) -> Iterator[Job]:
        """Jobs by free text (an id prefix, text in the payload, an error message) and payload conditions (docs/search.md)."""
        return self.list(search=text, where=where, **filters)

    def count(self, **filters: Any) -> int:
        """How many jobs match (exact up to the server's count limit)."""
        page = self.list_page(limit=1, count=True, **filters)
        return int((page.count or {}).get("value", 0))

    def cancel(self, job_id: Any) -> Job:
        return Job.from_json(self._api("POST", f"/jobs/{_id(job_id)}/cancel"))

    def retry(self, job_id: Any) -> Job:
        return Job.from_json(self._api("POST", f"/jobs/{_id(job_id)}/retry"))

    def promote(self, job_id: Any) -> Job:
        return Job.from_json(self._api("POST", f"/jobs/{_id(job_id)}/promote"))

    def set_priority(self, job_id: Any, priority: Union[int, str]) -> Job:
        return Job.from_json(self._api("PATCH", f"/jobs/{_id(job_id)}", {"priority": priority}))

    def delete(self, job_id: Any) -> None:
        """Deletes a job (not while it is active: cancel it first)."""
        self._api("DELETE", f"/jobs/{_id(job_id)}")

    def act_on_jobs(self, action: str, ids: Optional[Iterable[Any]] = None, **filters: Any) -> Dict[str, int]:
        """``retry | cancel | promote | delete`` each of ``ids``, or every job matching ``filters``: ``{matched, changed}``."""
        body = api_fields(filters)
        if ids is not None:
            body["ids"] = [i if isinstance(i, str) else i.id for i in ids]
        return dict(self._api("POST", f"/jobs/actions/{quote(action, safe='')}", body))

    def viewer_token(self, job_id: Any, ttl: Optional[Seconds] = None) -> Dict[str, Any]:
        """A read-only, expiring token for one job's detail and feed (docs/http.md)."""
        return dict(self._api("POST", f"/jobs/{_id(job_id)}/viewer-token", api_fields({"ttl": ttl})))

    def wait(self, job_id: Any, timeout: Optional[float] = None) -> JobDetail:
        """The job once it has ended (completed, failed or cancelled), with its result or error.

        Long polls on GET /jobs/{id}/result (at most a minute each, asked
        again until ``timeout``); a server that cannot be reached meanwhile
        is tried again. Raises WaitTimeout after ``timeout`` seconds (None:
        wait as long as it takes), NotFound if the job is (or becomes) missing.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        failures = 0
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            wait_ms = MAX_RESULT_WAIT_MS if left is None else min(MAX_RESULT_WAIT_MS, int(left * 1000))
            try:
                response = self.transport.request(
                    "GET", f"/api/v1/jobs/{_id(job_id)}/result", query={"waitMs": wait_ms},
                    timeout=self.transport.timeout + wait_ms / 1000,
                )
                failures = 0
            except Unavailable:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                failures += 1
                time.sleep(min(2.0, 0.1 * 2 ** min(failures, 5)))
                continue
            if response.status == 200:
                return JobDetail.from_json(response.json())
            if deadline is not None and time.monotonic() >= deadline:
                live = response.json() or {}
                raise WaitTimeout(
                    "WAIT_TIMEOUT",
                    f"job {live.get('id', job_id)} is still {live.get('status')} after {timeout} s",
                    {"id": live.get("id"), "status": live.get("status"), "timeoutMs": int((timeout or 0) * 1000)},
                    408,
                )

    # Files

    def upload(
        self,
        queue: str,
        type: str,
        files: Iterable[FileLike],
        payload: Any = None,
        **options: Any,
    ) -> Tuple[Job, List[Artifact]]:
        """Adds a job with input files (POST /jobs/upload), streamed from disk or file objects.

        ``files``: paths, open binary files, or ``(name, file or bytes[, media type])``.
        ``options``: ``add``'s.
        """
        fields = {"job": json.dumps(job_fields(queue, type, payload, options))}
        answer = self._multipart("/api/v1/jobs/upload", fields, files)
        return Job.from_json(answer["job"]), [Artifact.from_json(a) for a in answer["artifacts"]]

    def _multipart(self, path: str, fields: Dict[str, str], files: Iterable[FileLike]) -> Any:
        body = Multipart(fields, files)
        headers = {"Content-Type": body.content_type}
        if body.length is not None:
            headers["Content-Length"] = str(body.length)
        return self.transport.request("POST", path, body=iter(body), headers=headers).json()

    def artifacts(self, job_id: Any, *, token: Optional[str] = None) -> List[Artifact]:
        """A job's files (inputs, and outputs so far). A worker key needs the job's lease ``token``."""
        headers = {"x-lease-token": token} if token else None
        answer = self.transport.request("GET", f"/api/v1/jobs/{_id(job_id)}/artifacts", headers=headers).json()
        return [Artifact.from_json(a) for a in answer["artifacts"]]

    def download(
        self,
        artifact: Union[str, Artifact],
        dest: Union[str, "os.PathLike[str]", IO[bytes], None] = None,
        *,
        token: Optional[str] = None,
    ) -> Union[bytes, str, None]:
        """A file's bytes (``dest`` None), or streamed to ``dest`` (a path, returned; or a binary file).

        The SHA-256 the server sends (X-Checksum-Sha256) is checked: a mismatch raises DocketError.
        """
        artifact_id = artifact.id if isinstance(artifact, Artifact) else artifact
        headers = {"x-lease-token": token} if token else None
        response = self.transport.request("GET", f"/api/v1/artifacts/{_id(artifact_id)}", headers=headers, stream=True)
        raw = response.raw
        assert raw is not None
        digest = hashlib.sha256()
        chunks: List[bytes] = []
        try:
            if dest is None:
                write = chunks.append
            elif isinstance(dest, (str, os.PathLike)):
                out = open(dest, "wb")
                write = out.write  # type: ignore[assignment]
            else:
                write = dest.write  # type: ignore[assignment]
            try:
                for chunk in iter(lambda: raw.read(256 * 1024), b""):
                    digest.update(chunk)
                    write(chunk)
            finally:
                if isinstance(dest, (str, os.PathLike)):
                    out.close()
        finally:
            response.close()
        expected = response.headers.get("X-Checksum-Sha256")
        if expected and expected.lower() != digest.hexdigest():
            raise DocketError("CHECKSUM_MISMATCH", f"artifact {artifact_id}: the bytes received do not match its SHA-256")
        if dest is None:
            return b"".join(chunks)
        return os.fspath(dest) if isinstance(dest, (str, os.PathLike)) else None

    # The live feed

    def events(
        self,
        *,
        queue: Optional[str] = None,
        job_id: Optional[Any] = None,
        after: Optional[int] = None,
    ) -> Iterator[Event]:
        """The live feed (Server-Sent Events) as an iterator, for as long as you iterate.

        A dropped connection is opened again with ``Last-Event-ID``, after a
        bounded backoff, so no event is missed or repeated (within the event
        log's retention). ``after``: start after this event id. Ends with
        Unauthenticated when the key is revoked.
        """
        return self._feed(queue=queue, job_id=job_id, after=after, deadline=None)

    def _feed(self, *, queue: Optional[str] = None, job_id: Any = None, after: Optional[int], deadline: Optional[float]) -> Iterator[Event]:
        """The feed; it stops (returns) at ``deadline`` (a monotonic time)."""
        last = after
        failures = 0
        query = {"queue": queue, "jobId": None if job_id is None else (job_id if isinstance(job_id, str) else job_id.id)}
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            # The server sends a keep-alive every 15 s: 45 s of silence is a dead connection.
            read_timeout = 45.0 if remaining is None else min(45.0, max(0.05, remaining))
            headers = {"Accept": "text/event-stream"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            response = None
            try:
                response = self.transport.request("GET", "/api/v1/events", query=query, headers=headers, stream=True, timeout=read_timeout)
                raw = response.raw
                assert raw is not None
                parser = SseParser()
                while True:
                    if deadline is not None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            return
                        if response.sock is not None:
                            response.sock.settimeout(min(45.0, max(0.05, left)))
                    line = raw.readline()
                    if not line:
                        break  # the server ended the stream: open it again
                    message = parser.feed(line.decode("utf-8", "replace"))
                    if message is None:
                        continue
                    message_id, kind, data = message
                    if kind == "feed.closed":
                        body = parse_json(data)
                        code = body.get("code", "UNAUTHENTICATED") if isinstance(body, dict) else "UNAUTHENTICATED"
                        text = body.get("message", "the feed was closed") if isinstance(body, dict) else str(body)
                        raise Unauthenticated(code, text, {}, 401)
                    failures = 0
                    value = parse_json(data)
                    if not isinstance(value, dict):
                        continue
                    event = Event.from_json(value)
                    last = event.id if message_id is None else int(message_id)
                    yield event
            except (Unavailable, OSError, http.client.HTTPException):
                if deadline is not None and time.monotonic() >= deadline:
                    return
                failures += 1
                time.sleep(min(2.0, 0.1 * 2 ** min(failures, 5)))
            finally:
                if response is not None:
                    response.close()

    # Queues

    def queues(self) -> List[Queue]:
        return [Queue.from_json(q) for q in self._api("GET", "/queues")["queues"]]

    def queue(self, name: str) -> Queue:
        return Queue.from_json(self._api("GET", f"/queues/{_id(name)}"))

    def create_queue(self, name: str, **options: Any) -> Queue:
        """Creates a queue: ``concurrency``, ``mode``, ``ordering``, ``max_attempts``, ``backoff``, ``timeout``,
        ``retention`` (seconds), ``rate_limit`` (``{"max": 100, "interval": 1}``), ``group_concurrency``, ``fair``, …"""
        return Queue.from_json(self._api("POST", "/queues", {"name": name, **api_fields(options)}))

    def update_queue(self, name: str, **options: Any) -> Queue:
        return Queue.from_json(self._api("PATCH", f"/queues/{_id(name)}", api_fields(options)))

    def pause_queue(self, name: str) -> Queue:
        return Queue.from_json(self._api("POST", f"/queues/{_id(name)}/pause"))

    def resume_queue(self, name: str) -> Queue:
        return Queue.from_json(self._api("POST", f"/queues/{_id(name)}/resume"))

    def promote_queue(self, name: str) -> Any:
        """Promotes every held job of a manual-mode queue."""
        return self._api("POST", f"/queues/{_id(name)}/promote")

    def delete_queue(self, name: str, *, force: bool = False) -> None:
        self._api("DELETE", f"/queues/{_id(name)}", query={"force": "true"} if force else None)

    # Batches

    def batch(self, batch_id: str) -> Batch:
        return Batch.from_json(self._api("GET", f"/batches/{_id(batch_id)}"))

    def batches(self, *, owner: Optional[str] = None, page_size: int = 100) -> Iterator[Batch]:
        """Every batch, newest first, page after page."""
        before: Optional[str] = None
        while True:
            answer = self._api("GET", "/batches", query={"owner": owner, "before": before, "limit": page_size})
            for b in answer["batches"]:
                yield Batch.from_json(b)
            before = answer.get("nextBefore")
            if not before or not answer["batches"]:
                return

    def cancel_batch(self, batch_id: str) -> Any:
        return self._api("POST", f"/batches/{_id(batch_id)}/cancel")

    def retry_batch(self, batch_id: str) -> Any:
        return self._api("POST", f"/batches/{_id(batch_id)}/retry")

    # Schedules

    def schedules(self, *, owner: Optional[str] = None, name: Optional[str] = None) -> List[Schedule]:
        answer = self._api("GET", "/schedules", query={"owner": owner, "name": name})
        return [Schedule.from_json(s) for s in answer["schedules"]]

    def schedule(self, schedule_id: str) -> Schedule:
        return Schedule.from_json(self._api("GET", f"/schedules/{_id(schedule_id)}"))

    def create_schedule(
        self,
        name: str,
        queue: str,
        type: str,
        payload: Any = None,
        *,
        cron: Optional[str] = None,
        every: Optional[Seconds] = None,
        timezone: Optional[str] = None,
        options: Optional[Mapping[str, Any]] = None,
        catch_up: Optional[str] = None,
        overlap: Optional[str] = None,
        enabled: Optional[bool] = None,
        owner: Optional[str] = None,
    ) -> Schedule:
        """A schedule: ``cron`` (with ``timezone``) or ``every`` seconds; ``options`` for the jobs it adds."""
        body = {"name": name, "queue": queue, "type": type}
        body.update(api_fields(dict(payload=payload, cron=cron, every=every, timezone=timezone, options=options,
                                    catch_up=catch_up, overlap=overlap, enabled=enabled, owner=owner)))
        return Schedule.from_json(self._api("POST", "/schedules", body))

    def update_schedule(self, schedule_id: str, **fields: Any) -> Schedule:
        return Schedule.from_json(self._api("PATCH", f"/schedules/{_id(schedule_id)}", api_fields(fields)))

    def pause_schedule(self, schedule_id: str) -> Schedule:
        return Schedule.from_json(self._api("POST", f"/schedules/{_id(schedule_id)}/pause"))

    def resume_schedule(self, schedule_id: str) -> Schedule:
        return Schedule.from_json(self._api("POST", f"/schedules/{_id(schedule_id)}/resume"))

    def run_schedule(self, schedule_id: str) -> Any:
        """Runs a schedule now, once (also while paused)."""
        return self._api("POST", f"/schedules/{_id(schedule_id)}/run")

    def delete_schedule(self, schedule_id: str) -> None:
        self._api("DELETE", f"/schedules/{_id(schedule_id)}")

    # Workers and statistics

    def workers(self) -> List[Dict[str, Any]]:
        """The worker registry (admin keys)."""
        return list(self._api("GET", "/workers")["workers"])

    def stats(self, queue: Optional[str] = None) -> Dict[str, Any]:
        return dict(self._api("GET", "/stats" if queue is None else f"/queues/{_id(queue)}/stats"))
