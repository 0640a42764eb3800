"""Errors: every refusal of the API is a DocketError carrying its code, message, details and HTTP status.

The codes are Docket's stable error codes (docs/errors.md). A few common ones
have their own subclass, so that callers can catch what they can act on:

    try:
        client.get(job_id)
    except NotFound:
        ...
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class DocketError(Exception):
    """A refusal of the Docket API (or a failure to reach it: code ``UNAVAILABLE``, status 0)."""

    def __init__(
        self,
        code: str,
        message: str,
        details: Optional[Dict[str, Any]] = None,
        status: int = 0,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: Dict[str, Any] = details or {}
        self.status = status

    @property
    def issues(self) -> List[Dict[str, str]]:
        """For INVALID_ARGUMENT: ``[{"path": "body.items.3.token", "message": ...}]``."""
        issues = self.details.get("issues")
        return list(issues) if isinstance(issues, list) else []

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"


class InvalidArgument(DocketError):
    """400: a value of the wrong form; ``issues`` names each field."""


class Unauthenticated(DocketError):
    """401: no key, a bad or revoked key."""


class Forbidden(DocketError):
    """403: the key's role may not do this."""


class NotFound(DocketError):
    """404: an unknown job, queue, batch, file or worker, or someone else's."""


class Conflict(DocketError):
    """409 other than a lost lease: the id exists, the state does not allow it (CONFLICT, INVALID_STATE)."""


class LeaseLost(Conflict):
    """409 LEASE_LOST: this worker no longer holds the job's lease; ``reason`` says why."""

    @property
    def reason(self) -> str:
        return str(self.details.get("reason", "deleted"))

    @property
    def job_id(self) -> Optional[str]:
        value = self.details.get("jobId")
        return value if isinstance(value, str) else None


class PayloadTooLarge(DocketError):
    """413: a body or file over the server's limit."""


class RateLimited(DocketError):
    """429: too many requests; ``retry_after`` is the server's Retry-After, in seconds."""

    def __init__(
        self,
        code: str,
        message: str,
        details: Optional[Dict[str, Any]] = None,
        status: int = 429,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(code, message, details, status)
        self.retry_after = retry_after


class Unavailable(DocketError):
    """The server could not be reached or answered 5xx (``status`` 0 when it was not reached at all)."""


class WaitTimeout(DocketError, TimeoutError):
    """``Client.wait`` ran out of time before the job ended (code WAIT_TIMEOUT; ``details.status`` is the job's)."""


_BY_CODE = {
    "INVALID_ARGUMENT": InvalidArgument,
    "UNAUTHENTICATED": Unauthenticated,
    "FORBIDDEN": Forbidden,
    "NOT_FOUND": NotFound,
    "CONFLICT": Conflict,
    "INVALID_STATE": Conflict,
    "LEASE_LOST": LeaseLost,
    "PAYLOAD_TOO_LARGE": PayloadTooLarge,
    "WAIT_TIMEOUT": WaitTimeout,
}


def error_from_response(status: int, body: Any, retry_after: Optional[float] = None) -> DocketError:
    """The exception for an error answer: ``{"error": {"code", "message", "details"}}``, or whatever came."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"code": "INTERNAL" if status >= 500 else "HTTP_%d" % status, "message": f"HTTP {status}"}
    code = str(error.get("code", ""))
    message = str(error.get("message", ""))
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    if status == 429 or code == "RATE_LIMITED":
        return RateLimited(code or "RATE_LIMITED", message, details, status, retry_after)
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = Unavailable if status >= 500 else DocketError
    return cls(code, message, details, status)


class Unrecoverable(Exception):
    """Raise from a handler to fail the job without a retry, whatever attempts it has left."""


class RetryAfter(Exception):
    """Raise from a handler to fail this attempt and retry after ``seconds`` (not the job's backoff)."""

    def __init__(self, seconds: float, message: Optional[str] = None) -> None:
        super().__init__(message or f"retry after {seconds} s")
        self.seconds = float(seconds)
