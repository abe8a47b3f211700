"""A PostgreSQL cluster and a Redis server of one's own, on ports of one's own.

`make prod` on a machine without DATABASE_URL and REDIS_URL runs them under its state folder; the
deployment tests and the peak benchmark start them so they can stop and restart them mid-run
without touching the machine's shared PostgreSQL (5432) or Redis (6379).

PostgreSQL comes from Debian's packages (/usr/lib/postgresql/15/bin). initdb refuses to run as
root, so as root the cluster belongs to the `postgres` system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin")


class ServiceMissing(RuntimeError):
    """A program the deployment needs is not installed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_until(condition, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def postgres_available() -> str | None:
    """None when PostgreSQL's server binaries are installed, else why not."""
    for name in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / name).exists():
            return f"PostgreSQL's {name} not found in {PG_BIN} (Debian: apt-get install postgresql-15)"
    return None


def redis_available() -> str | None:
    return None if shutil.which("redis-server") else "redis-server not found (Debian: apt-get install redis-server)"


class PostgresCluster:
    """initdb once, then start, stop and restart as often as wanted; trust auth on 127.0.0.1 only."""

    def __init__(self, folder: Path, port: int | None = None, max_connections: int = 200):
        if reason := postgres_available():
            raise ServiceMissing(reason)
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = port or free_port()
        self.max_connections = max_connections
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stdout}{result.stderr}")
        return result

    def init(self) -> PostgresCluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        return self

    def start(self) -> PostgresCluster:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
            f" -c max_connections={self.max_connections} -c shared_buffers=128MB"
            # A lock waited on for over deadlock_timeout (1 s) is logged with who holds it: what to read
            # first when requests slow down under load (bench/peak counts these lines).
            " -c log_lock_waits=on"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """fast: sessions are cut off as a restart does; immediate: as a crash (recovers from the WAL)."""
        if self.running():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and port_open(self.port)


class RedisServer:
    """redis-server in the foreground of a child process; nothing kept on disk (a restart empties it,
    as a cache or a queue's broker restarting without persistence would)."""

    def __init__(self, folder: Path, port: int | None = None):
        if reason := redis_available():
            raise ServiceMissing(reason)
        self.folder = Path(folder)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.folder)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until(lambda: port_open(self.port), 20, f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        wait_until(lambda: not port_open(self.port), 10, f"redis-server on port {self.port} to stop")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
