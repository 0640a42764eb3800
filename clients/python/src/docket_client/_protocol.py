"""The remote-worker protocol (docs/remote-workers.md), call by call: what Worker and JobContext send."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

from ._transport import Transport


def _p(value: str) -> str:
    return quote(value, safe="")


class Protocol:
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def _post(self, path: str, body: Any, timeout: Optional[float] = None) -> Any:
        return self.t.request("POST", "/api/v1" + path, json_body=body, timeout=timeout).json()

    # The registry

    def register(self, body: Dict[str, Any]) -> str:
        return str(self._post("/workers", body)["id"])

    def beat(self, worker_id: str, load: int) -> None:
        self._post(f"/workers/{_p(worker_id)}/heartbeat", {"load": load})

    def deregister(self, worker_id: str) -> int:
        return int(self.t.request("DELETE", f"/api/v1/workers/{_p(worker_id)}").json().get("released", 0))

    def claim(
        self,
        worker_id: str,
        *,
        queues: Sequence[str],
        capabilities: Sequence[str],
        limit: int,
        lease_ms: int,
        wait_ms: int,
        complete: List[Dict[str, Any]],
    ) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]], Optional[int]]:
        """Claims (long-polling up to ``wait_ms``), sending ``complete`` first: (jobs, completion outcomes, retryAfterMs)."""
        body: Dict[str, Any] = {
            "queues": list(queues),
            "capabilities": list(capabilities),
            "limit": limit,
            "leaseMs": lease_ms,
            "waitMs": wait_ms,
        }
        if complete:
            body["complete"] = complete
        # The server holds the call up to wait_ms: give it that, and the usual time on top.
        answer = self._post(f"/workers/{_p(worker_id)}/claim", body, timeout=self.t.timeout + wait_ms / 1000)
        return list(answer["jobs"]), list(answer.get("completed") or []), answer.get("retryAfterMs")

    # Leases

    def heartbeat(self, job_id: str, token: str, lease_ms: int) -> None:
        self._post(f"/jobs/{_p(job_id)}/heartbeat", {"token": token, "leaseMs": lease_ms})

    def release(self, job_id: str, token: str) -> None:
        self._post(f"/jobs/{_p(job_id)}/release", {"token": token})

    def progress(self, job_id: str, token: str, fields: Dict[str, Any]) -> None:
        self._post(f"/jobs/{_p(job_id)}/progress", {"token": token, **fields})

    def event(self, job_id: str, token: str, kind: str, fields: Dict[str, Any]) -> None:
        self._post(f"/jobs/{_p(job_id)}/events", {"token": token, "kind": kind, **fields})

    def complete(self, items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """POST /jobs/complete: one outcome per item, in order."""
        return list(self._post("/jobs/complete", {"items": items})["results"])

    def complete_one(self, job_id: str, token: str, result: Any) -> None:
        self._post(f"/jobs/{_p(job_id)}/complete", {"token": token, "result": result})

    def fail(self, job_id: str, token: str, error: Dict[str, Any], retryable: Optional[bool], retry_in_ms: Optional[int]) -> Dict[str, Any]:
        body: Dict[str, Any] = {"token": token, "error": error}
        if retryable is not None:
            body["retryable"] = retryable
        if retry_in_ms is not None:
            body["retryInMs"] = retry_in_ms
        return dict(self._post(f"/jobs/{_p(job_id)}/fail", body))

    def snooze(self, job_id: str, token: str, delay_ms: int) -> None:
        self._post(f"/jobs/{_p(job_id)}/snooze", {"token": token, "delayMs": delay_ms})

    def upstream(self, job_id: str, token: str) -> List[Dict[str, Any]]:
        answer = self.t.request("GET", f"/api/v1/jobs/{_p(job_id)}/upstream", headers={"x-lease-token": token}).json()
        return list(answer["upstream"])
