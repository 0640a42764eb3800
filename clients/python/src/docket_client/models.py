"""What the API answers, as dataclasses. Each keeps the whole JSON object in ``raw``.

Times are timezone-aware ``datetime`` objects (UTC); durations the API gives
in milliseconds keep their ``_ms`` name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional

FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def parse_time(value: Any) -> Optional[datetime]:
    if not isinstance(value, str) or not value:
        return None
    # Python 3.9's fromisoformat takes neither "Z" nor more than 6 digits of fraction.
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    return datetime.fromisoformat(text)


@dataclass
class Job:
    id: str
    queue: str
    type: str
    payload: Any
    status: str
    priority: int
    attempts: int
    max_attempts: int
    progress: Dict[str, Any]
    result: Any
    last_error: Optional[Dict[str, Any]]
    owner: Optional[str]
    group: Optional[str]
    batch_id: Optional[str]
    worker_id: Optional[str]
    capabilities: List[str]
    run_at: Optional[datetime]
    created_at: Optional[datetime]
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    raw: Dict[str, Any] = field(repr=False)

    @property
    def done(self) -> bool:
        """Whether the job has ended: completed, failed or cancelled."""
        return self.status in FINAL_STATUSES

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "Job":
        return cls(**_job_fields(j))


def _job_fields(j: Dict[str, Any]) -> Dict[str, Any]:
    return dict(
        id=j["id"],
        queue=j.get("queue", ""),
        type=j.get("type", ""),
        payload=j.get("payload"),
        status=j.get("status", ""),
        priority=j.get("priority", 0),
        attempts=j.get("attempts", 0),
        max_attempts=j.get("maxAttempts", 0),
        progress=j.get("progress") or {},
        result=j.get("result"),
        last_error=j.get("lastError"),
        owner=j.get("owner"),
        group=j.get("group"),
        batch_id=j.get("batchId"),
        worker_id=j.get("workerId"),
        capabilities=list(j.get("capabilities") or []),
        run_at=parse_time(j.get("runAt")),
        created_at=parse_time(j.get("createdAt")),
        started_at=parse_time(j.get("startedAt")),
        finished_at=parse_time(j.get("finishedAt")),
        raw=j,
    )


@dataclass
class Artifact:
    id: str
    job_id: str
    direction: str
    name: str
    media_type: str
    size: int
    sha256: str
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "Artifact":
        return cls(
            id=j["id"],
            job_id=j.get("jobId", ""),
            direction=j.get("direction", ""),
            name=j.get("name", ""),
            media_type=j.get("mediaType", ""),
            size=j.get("size", 0),
            sha256=j.get("sha256", ""),
            raw=j,
        )


@dataclass
class JobDetail(Job):
    """A job with its history: ``events`` (the timeline), ``attempt_history``, ``artifacts``, and
    ``dependencies`` (``{"upstream": [...], "downstream": [...]}``, each ``{id, status, on}``)."""

    events: List[Dict[str, Any]] = field(default_factory=list, repr=False)
    attempt_history: List[Dict[str, Any]] = field(default_factory=list, repr=False)
    dependencies: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict, repr=False)
    artifacts: List[Artifact] = field(default_factory=list, repr=False)

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "JobDetail":
        return cls(
            **_job_fields(j),
            events=list(j.get("events") or []),
            attempt_history=list(j.get("attemptHistory") or []),
            dependencies=dict(j.get("dependencies") or {}),
            artifacts=[Artifact.from_json(a) for a in j.get("artifacts") or []],
        )


@dataclass
class ClaimedJob(Job):
    """A job this worker holds: ``token`` is its lease token."""

    token: str = ""
    lease_expires_at: Optional[datetime] = None
    trace_context: Optional[Dict[str, str]] = None

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "ClaimedJob":
        lease = j.get("lease") or {}
        return cls(
            **_job_fields(j),
            token=lease.get("token", ""),
            lease_expires_at=parse_time(lease.get("expiresAt")),
            trace_context=j.get("traceContext"),
        )


@dataclass
class Event:
    """One event of the live feed (``Client.events``): ``kind`` such as ``job.completed``."""

    id: int
    kind: str
    at: Optional[datetime]
    job_id: Optional[str]
    queue: Optional[str]
    worker_id: Optional[str]
    status: Optional[str]
    step: Optional[str]
    percent: Optional[float]
    message: Optional[str]
    data: Any
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "Event":
        return cls(
            id=int(j.get("id", 0)),
            kind=j.get("kind", ""),
            at=parse_time(j.get("at")),
            job_id=j.get("jobId"),
            queue=j.get("queue"),
            worker_id=j.get("workerId"),
            status=j.get("status"),
            step=j.get("step"),
            percent=j.get("percent"),
            message=j.get("message"),
            data=j.get("data"),
            raw=j,
        )


@dataclass
class Queue:
    name: str
    mode: str
    status: str
    concurrency: Optional[int]
    ordering: str
    counts: Dict[str, int]
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "Queue":
        return cls(
            name=j["name"],
            mode=j.get("mode", ""),
            status=j.get("status", ""),
            concurrency=j.get("concurrency"),
            ordering=j.get("ordering", ""),
            counts=dict(j.get("counts") or {}),
            raw=j,
        )


@dataclass
class Batch:
    id: str
    name: Optional[str]
    owner: Optional[str]
    then_job_id: Optional[str]
    total: int
    counts: Dict[str, int]
    progress: float
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "Batch":
        return cls(
            id=j["id"],
            name=j.get("name"),
            owner=j.get("owner"),
            then_job_id=j.get("thenJobId"),
            total=j.get("total", 0),
            counts=dict(j.get("counts") or {}),
            progress=j.get("progress", 0),
            raw=j,
        )


@dataclass
class CreatedBatch:
    """What ``Client.add_batch`` answers: the batch, its jobs, and its ``then`` job when one was asked for."""

    batch: Batch
    jobs: List[Job]
    then_job: Optional[Job]


@dataclass
class Schedule:
    id: str
    name: str
    queue: str
    type: str
    cron: Optional[str]
    every_ms: Optional[int]
    timezone: Optional[str]
    enabled: bool
    next_run_at: Optional[datetime]
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "Schedule":
        return cls(
            id=j["id"],
            name=j.get("name", ""),
            queue=j.get("queue", ""),
            type=j.get("type", ""),
            cron=j.get("cron"),
            every_ms=j.get("every"),
            timezone=j.get("timezone"),
            enabled=bool(j.get("enabled", True)),
            next_run_at=parse_time(j.get("nextRunAt")),
            raw=j,
        )


@dataclass
class Upstream:
    """A job the current one depends on (``ctx.upstream()``); ``result`` once it completed."""

    id: str
    type: str
    status: str
    on: str
    result: Any

    @classmethod
    def from_json(cls, j: Dict[str, Any]) -> "Upstream":
        return cls(id=j["id"], type=j.get("type", ""), status=j.get("status", ""), on=j.get("on", ""), result=j.get("result"))
