"""The production deployment driven from outside, for the deployment tests and the peak benchmark:
its own PostgreSQL cluster and Redis (so they can be broken), `deploy/run` on free ports, and the
faults: kill a web process, stop/start Redis, restart PostgreSQL, rolling restart."""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from deploy.prod import ROOT, health
from deploy.services import PostgresCluster, RedisServer, wait_until


def free_port_range(count: int) -> int:
    """A first port with `count` free ports from it (nginx, then one per web process). Below Linux's
    ephemeral range (32768 and up): a port there can be taken at any moment as the local end of an
    outgoing connection, and nginx then failed to bind it ("Address already in use", bench/peak)."""
    for _ in range(200):
        first = random.randint(20000, 32000 - count)
        if all(_bindable(p) for p in range(first, first + count)):  # a listener there also refuses the bind
            return first
    raise RuntimeError("no free port range")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx and gunicorn bind
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


class Stack:
    def __init__(self, folder: Path, web: int = 2, workers: int = 0, **env: str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # the cluster's owner (postgres, when run as root) must reach its folder
        self.web, self.workers = web, workers
        self.pg = PostgresCluster(self.folder / "postgres")
        self.redis = RedisServer(self.folder / "redis")
        self.port = free_port_range(web + 1)
        self.secret = secrets.token_urlsafe(32)
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log_path = self.folder / "deploy.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return self.pg.url

    @property
    def state(self) -> Path:
        return self.folder / "deploy"

    def web_ports(self) -> list[int]:
        return [self.port + 1 + i for i in range(self.web)]

    def start_services(self) -> Stack:
        self.pg.init().start()
        self.redis.start()
        return self

    def start(self, timeout: float = 120) -> Stack:
        env = {
            **os.environ,
            "GURU_CONFIG": "production",
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": self.secret,
            "SOCKETIO_CHANNEL": f"guru-stack-{self.port}",
            **self.env,
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(ROOT / "deploy" / "run"), "start", "--state", str(self.state), "--port", str(self.port),
                 "--web", str(self.web), "--workers", str(self.workers)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.wait_healthy(timeout)
        return self

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the deployment exited: {self.log()}")
        try:
            return all(v == "ok" for v in health(self.state).values())
        except (OSError, ValueError):
            return False

    def wait_healthy(self, timeout: float = 120) -> None:
        wait_until(self.healthy, timeout, f"the deployment to be healthy\n{self.log()}", interval=0.3)

    def master_pid(self, i: int) -> int:
        return int((self.state / f"web{i}.pid").read_text())

    def worker_pids(self, i: int) -> set[int]:
        master = self.master_pid(i)
        try:
            return {int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()}
        except OSError:
            return set()

    def kill_web(self, i: int) -> int:
        """SIGKILL web{i} whole, gunicorn's master and its worker at once, as a crash of the machine's
        process would: its port refuses connections until deploy/respawn has started it again. Returns
        the killed master's pid."""
        master = self.master_pid(i)
        for pid in [master, *self.worker_pids(i)]:
            os.kill(pid, signal.SIGKILL)
        return master

    def job_worker_pids(self) -> list[int]:
        """The job workers' processes (`flask jobs-worker`), not the solver children they fork."""
        import psutil

        if self.process is None:
            return []
        shells = {"sh", "dash", "bash", "respawn"}  # honcho's `sh -c` and deploy/respawn: the same command line
        found = []
        for proc in psutil.Process(self.process.pid).children(recursive=True):
            try:
                parent = proc.parent()
                # The worker itself: not a shell, started by respawn's shell (its solvers are its forks).
                if "jobs-worker" in proc.cmdline() and proc.name() not in shells and parent and parent.name() in shells:
                    found.append(proc.pid)
            except psutil.Error:
                continue
        return sorted(found)

    def rolling_restart(self) -> str:
        result = subprocess.run(
            [str(ROOT / "deploy" / "run"), "restart", "--state", str(self.state)],
            cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "GURU_CONFIG": "production"},
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(result.stdout + result.stderr)
        return result.stdout

    def get(self, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=kw.pop("timeout", 30), **kw)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def stop_all(self) -> None:
        self.stop()
        self.redis.stop()
        self.pg.stop()

    def log(self, tail: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    """Wait for an outcome with a generous deadline; the value that satisfied it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")
