"""A real Redis (Debian's ``redis-server``) on loopback, and worker processes sharing it.

Without ``redis-server`` or the ``redis`` package the tests are skipped, and they fail when the
``CI`` environment variable is set (``.ci/run`` installs the server).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from ..conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
#: The public host every worker is reached as, as behind a load balancer.
HOST = "api.test"
START_TIMEOUT = 10.0


def _missing() -> str | None:
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis package is not installed (pip install -e '.[tests]')"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` on 127.0.0.1, without persistence, in its own directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        assert exe is not None
        self.process = subprocess.Popen(
            [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory), "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="session")
def redis_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], RedisServer]]:
    """Start Redis servers (stopped at the end of the session); skip without redis-server."""
    problem = _missing()
    if problem is not None:
        unavailable(f"the Redis scale-out tests cannot run: {problem}")
    started: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(redis_servers: Callable[[], RedisServer]) -> RedisServer:
    """The session's shared Redis; tests keep apart by key prefix."""
    return redis_servers()


class Worker:
    """A worker process (``tests/redis/worker.py``) serving the test app on loopback."""

    def __init__(self, config: dict[str, Any], log: Path) -> None:
        self.config = config
        self.log = log
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.redis.worker", json.dumps(config)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        self.url = ""
        self.session = requests.Session()

    def wait_ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.isdigit():
            raise RuntimeError(f"the worker did not start:\n{self.log.read_text()}")
        self.url = f"http://127.0.0.1:{line}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> requests.Response:
        """``GET path`` as a client of ``http://api.test`` would send it."""
        return self.session.get(self.url + path, headers={"Host": HOST, **(headers or {})})

    def logs(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.session.close()
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., list[Worker]]]:
    """Start ``n`` worker processes with one configuration (started in parallel)."""
    running: list[Worker] = []

    def start(n: int, **config: Any) -> list[Worker]:
        """``n`` workers running ``tests/redis/worker.py`` with ``config``."""
        first = len(running)
        batch = [Worker(config, tmp_path / f"worker-{first + i}.log") for i in range(n)]
        running.extend(batch)
        with ThreadPoolExecutor(max_workers=n) as pool:
            list(pool.map(Worker.wait_ready, batch))
        return batch

    yield start
    for worker in running:
        worker.stop()
