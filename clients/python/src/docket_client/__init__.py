"""docket_client: a Python client and worker for Docket, over its HTTP API (standard library only).

    from docket_client import Client, Worker

    client = Client("http://127.0.0.1:8080", key)        # or DOCKET_URL / DOCKET_KEY
    job = client.add("documents", "analyse", {"name": "deck.pdf"}, priority="high")
    done = client.wait(job.id, timeout=60)

See docs/clients.md in the Docket repository.
"""

from ._version import __version__
from .async_worker import AsyncJobContext, AsyncWorker
from .client import Client, JobPage
from .context import JobContext, Snoozed
from .errors import (
    Conflict,
    DocketError,
    Forbidden,
    InvalidArgument,
    LeaseLost,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RetryAfter,
    Unauthenticated,
    Unavailable,
    Unrecoverable,
    WaitTimeout,
)
from .models import Artifact, Batch, ClaimedJob, CreatedBatch, Event, Job, JobDetail, Queue, Schedule, Upstream
from .worker import Worker

__all__ = [
    "__version__",
    "Artifact",
    "AsyncJobContext",
    "AsyncWorker",
    "Batch",
    "ClaimedJob",
    "Client",
    "Conflict",
    "CreatedBatch",
    "DocketError",
    "Event",
    "Forbidden",
    "InvalidArgument",
    "Job",
    "JobContext",
    "JobDetail",
    "JobPage",
    "LeaseLost",
    "NotFound",
    "PayloadTooLarge",
    "Queue",
    "RateLimited",
    "RetryAfter",
    "Schedule",
    "Snoozed",
    "Unauthenticated",
    "Unavailable",
    "Unrecoverable",
    "Upstream",
    "WaitTimeout",
    "Worker",
]
