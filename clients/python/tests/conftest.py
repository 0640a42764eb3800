"""A real `docket serve` for the tests, on the database the environment names.

`npm test` runs this suite once per driver (test/clients/python.test.ts):
DOCKET_TEST_DB is a SQLite file or a PostgreSQL URL with a fresh schema, and
DOCKET_TEST_ADMIN_KEY / DOCKET_TEST_WORKER_KEY are keys made on it. Run alone
(`python3 -m pytest clients/python/tests`), it makes a SQLite file and its
keys itself. The server is the repository's CLI under Node (tsx).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from typing import Callable, Iterator, List, Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from docket_client import Client  # noqa: E402

NODE = os.environ.get("DOCKET_TEST_NODE", "node")
CLI = [NODE, "--import", "tsx", os.path.join(REPO, "src", "cli", "main.ts")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def until(check: Callable[[], object], timeout: float = 10.0, what: str = "condition", every: float = 0.02) -> object:
    """Polls ``check`` until it returns something truthy; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class Server:
    """`docket serve` on a port of its own; stop() and start() again on the same port and database."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: Optional[subprocess.Popen] = None
        self.log = tempfile.NamedTemporaryFile(prefix="docket-serve-", suffix=".log", delete=False)

    def start(self) -> None:
        env = {**os.environ, "DOCKET_TEST": "1"}
        self.process = subprocess.Popen(
            CLI + ["serve", "--db", self.db, "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warn", "--log-format", "json"],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docket serve exited with {self.process.returncode}: {open(self.log.name).read()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docket serve did not become ready within 30 s")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def make_keys(db: str) -> List[str]:
    keys = []
    for name, role in (("pytest-admin", "admin"), ("pytest-worker", "worker")):
        out = subprocess.run(CLI + ["keys", "create", f"{name}-{uuid.uuid4().hex[:6]}", "--role", role, "--db", db, "--json"],
                             cwd=REPO, check=True, capture_output=True, text=True).stdout
        keys.append(json.loads(out)["key"])
    return keys


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    own_dir = None
    db = os.environ.get("DOCKET_TEST_DB")
    if not db:
        own_dir = tempfile.mkdtemp(prefix="docket-pytest-")
        db = os.path.join(own_dir, "docket.db")
    if os.environ.get("DOCKET_TEST_ADMIN_KEY"):
        keys = [os.environ["DOCKET_TEST_ADMIN_KEY"], os.environ["DOCKET_TEST_WORKER_KEY"]]
    else:
        keys = make_keys(db)
    s = Server(db)
    s.admin_key, s.worker_key = keys  # type: ignore[attr-defined]
    s.start()
    try:
        yield s
    finally:
        s.stop()
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)


@pytest.fixture()
def admin(server: Server) -> Iterator[Client]:
    client = Client(server.url, server.admin_key)  # type: ignore[attr-defined]
    yield client
    client.close()


@pytest.fixture()
def worker_client(server: Server) -> Iterator[Client]:
    client = Client(server.url, server.worker_key)  # type: ignore[attr-defined]
    yield client
    client.close()


@pytest.fixture()
def queue(admin: Client) -> str:
    """A fresh queue for one test."""
    name = "q-" + uuid.uuid4().hex[:10]
    admin.create_queue(name)
    return name
