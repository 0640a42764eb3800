"""Python-style keyword options to the API's JSON fields.

One rule for every call: ``snake_case`` becomes ``camelCase``; a duration
named plainly (``delay``, ``timeout``, ``dedupe_ttl``, ``every``) is in seconds
(a number or a ``timedelta``) and is sent in milliseconds as ``delayMs``…;
the same name ending in ``_ms`` (``delay_ms``) is sent as it is. A
``datetime`` is sent as ISO 8601. Keys already in camelCase pass through, so
an option this client does not know yet can still be sent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterable, Mapping, Optional

# Plain names of durations in seconds, and the API field each becomes.
DURATIONS = {
    "delay": "delayMs",
    "timeout": "timeoutMs",
    "dedupe_ttl": "dedupeTtlMs",
    "dedupe_max_wait": "dedupeMaxWaitMs",
    "expires_in": "expiresInMs",
    "estimated_duration": "estimatedDurationMs",
    "retention": "retentionMs",
    "max_delay": "maxDelayMs",
    "interval": "intervalMs",
    "lease": "leaseMs",
    "ttl": "ttlMs",
}
# Durations whose field carries no Ms suffix.
DURATIONS_BARE = {"every": "every"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def millis(value: Any, name: str) -> Optional[int]:
    """Seconds (or a timedelta) as whole milliseconds."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds() * 1000)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected seconds (a number) or a timedelta, got {type(value).__name__}")
    return round(value * 1000)


def iso(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def api_fields(options: Mapping[str, Any], nested: Iterable[str] = ("backoff", "rate_limit", "options", "then")) -> Dict[str, Any]:
    """Converts keyword options (see the module's rule); None values are left out."""
    out: Dict[str, Any] = {}
    nested = set(nested)
    for key, value in options.items():
        if value is None:
            continue
        if key in DURATIONS:
            out[DURATIONS[key]] = millis(value, key)
        elif key in DURATIONS_BARE:
            out[DURATIONS_BARE[key]] = millis(value, key)
        elif key in nested and isinstance(value, Mapping):
            out[camel(key)] = api_fields(value)
        else:
            out[camel(key)] = iso(value)
    return out


def dependencies(depends_on: Any) -> Any:
    """``depends_on``: job ids (or jobs), ``(id, "success" | "completion")`` pairs, or the API's dicts."""
    if depends_on is None:
        return None
    out = []
    for dep in depends_on:
        if isinstance(dep, Mapping):
            out.append({"id": dep["id"], "on": dep.get("on", "success")})
        elif isinstance(dep, tuple):
            out.append({"id": _id_of(dep[0]), "on": dep[1]})
        else:
            out.append({"id": _id_of(dep), "on": "success"})
    return out


def _id_of(value: Any) -> str:
    return value if isinstance(value, str) else str(getattr(value, "id"))


def job_fields(queue: str, type: str, payload: Any, options: Mapping[str, Any]) -> Dict[str, Any]:
    """The body of POST /jobs from ``add``'s arguments."""
    opts = dict(options)
    deps = dependencies(opts.pop("depends_on", None))
    extra = opts.pop("extra", None) or {}
    body: Dict[str, Any] = {"queue": queue, "type": type}
    if payload is not None:
        body["payload"] = payload
    body.update(api_fields(opts))
    if deps is not None:
        body["dependsOn"] = deps
    body.update(extra)
    return body


def job_spec(spec: Mapping[str, Any]) -> Dict[str, Any]:
    """One job of ``add_many`` / ``add_batch``: a dict with ``queue``, ``type``, ``payload`` and add's options."""
    rest = dict(spec)
    try:
        queue, type_ = rest.pop("queue"), rest.pop("type")
    except KeyError as missing:
        raise ValueError(f"each job needs 'queue' and 'type' (missing {missing})") from None
    payload = rest.pop("payload", None)
    return job_fields(queue, type_, payload, rest)
