#!/usr/bin/env python3
"""A Docket remote worker in plain Python (standard library only).

It registers with a Docket server, long-polls for jobs of the given queues,
reports progress and steps, keeps its leases alive, and completes or fails
each job. The protocol is documented in docs/remote-workers.md.

    DOCKET_URL=http://127.0.0.1:8080 DOCKET_KEY=dk_... python3 worker.py documents

Jobs of type "wordcount" (payload {"text": "..."}) are handled here; any
other type fails without retry. Stops after --max-jobs jobs, or on Ctrl-C.
"""

import argparse
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request


class LeaseLost(Exception):
    pass


class Docket:
    def __init__(self, url, key):
        self.url = url.rstrip("/") + "/api/v1"
        self.key = key

    def call(self, method, path, body=None, timeout=40):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + self.key)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            payload = json.loads(error.read() or b"{}").get("error", {})
            if payload.get("code") == "LEASE_LOST":
                raise LeaseLost(payload.get("message"))
            raise RuntimeError(f"{method} {path}: {error.code} {payload.get('code')}: {payload.get('message')}")


def wordcount(job, report):
    text = job["payload"].get("text", "")
    report.step("split", lambda: text.split())
    report.progress(50, "split into words")
    words = report.step("count", lambda: len(text.split()))
    report.progress(100, "counted")
    return {"words": words, "worker": "python"}


HANDLERS = {"wordcount": wordcount}


class Report:
    """Progress, steps and logs for one leased job."""

    def __init__(self, docket, job):
        self.docket, self.job = docket, job
        self.token = job["lease"]["token"]

    def progress(self, percent, message=None):
        self.docket.call("POST", f"/jobs/{self.job['id']}/progress",
                         {"token": self.token, "percent": percent, "message": message})

    def step(self, name, fn):
        self.event("step.started", step=name)
        started = time.monotonic()
        try:
            result = fn()
        except Exception as error:
            self.event("step.failed", step=name, message=str(error),
                       durationMs=int((time.monotonic() - started) * 1000))
            raise
        self.event("step.completed", step=name, durationMs=int((time.monotonic() - started) * 1000))
        return result

    def event(self, kind, **fields):
        self.docket.call("POST", f"/jobs/{self.job['id']}/events", {"token": self.token, "kind": kind, **fields})


def keep_alive(docket, job, stop, every):
    """Extends the lease until the job is done; a lost lease ends the heartbeats."""
    while not stop.wait(every):
        try:
            docket.call("POST", f"/jobs/{job['id']}/heartbeat", {"token": job["lease"]["token"]})
        except LeaseLost:
            return


def run(docket, job, lease_ms):
    report = Report(docket, job)
    stop = threading.Event()
    beat = threading.Thread(target=keep_alive, args=(docket, job, stop, lease_ms / 3000), daemon=True)
    beat.start()
    try:
        handler = HANDLERS.get(job["type"])
        if handler is None:
            docket.call("POST", f"/jobs/{job['id']}/fail", {
                "token": report.token, "retryable": False,
                "error": {"message": f"no handler for {job['type']}", "name": "UnknownType"}})
            return
        try:
            result = handler(job, report)
        except LeaseLost:
            return
        except Exception as error:
            docket.call("POST", f"/jobs/{job['id']}/fail", {
                "token": report.token, "error": {"message": str(error), "name": type(error).__name__}})
            return
        docket.call("POST", f"/jobs/{job['id']}/complete", {"token": report.token, "result": result})
    except LeaseLost:
        pass  # the job was cancelled or taken over: nothing more to report
    finally:
        stop.set()


def main():
    parser = argparse.ArgumentParser(description="A Docket remote worker in Python.")
    parser.add_argument("queues", nargs="+")
    parser.add_argument("--url", default=os.environ.get("DOCKET_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--key", default=os.environ.get("DOCKET_KEY"))
    parser.add_argument("--lease-ms", type=int, default=30000)
    parser.add_argument("--max-jobs", type=int, default=0, help="stop after this many jobs (0: never)")
    args = parser.parse_args()
    if not args.key:
        sys.exit("set DOCKET_KEY or pass --key (a worker or admin API key)")

    docket = Docket(args.url, args.key)
    worker = docket.call("POST", "/workers", {
        "host": socket.gethostname(), "kind": "cpu", "queues": args.queues, "concurrency": 1})
    worker_id = worker["id"]
    print(f"registered as {worker_id}", flush=True)
    done = 0
    try:
        while args.max_jobs == 0 or done < args.max_jobs:
            claimed = docket.call("POST", f"/workers/{worker_id}/claim", {
                "queues": args.queues, "limit": 1, "leaseMs": args.lease_ms, "waitMs": 20000})
            for job in claimed["jobs"]:
                run(docket, job, args.lease_ms)
                done += 1
                print(f"finished {job['id']}", flush=True)
            docket.call("POST", f"/workers/{worker_id}/heartbeat", {"load": 0})
    except KeyboardInterrupt:
        pass
    finally:
        docket.call("DELETE", f"/workers/{worker_id}")


if __name__ == "__main__":
    main()
