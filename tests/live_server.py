"""Real server processes for the live tests: gunicorn as `make run` starts it, and Socket.IO clients."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One gunicorn process on its own port, with the project's gunicorn.conf.py."""

    def __init__(self, database_url: str, log_dir: Path, redis_url: str | None = None, channel: str = "", **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "GURU_CONFIG": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "testing-secret",  # the tests sign tokens with TestingConfig's key
            "CLOCK_SECONDS": "0.2",
            "SERVER_THREADS": "300",
            "SOCKETIO_CHANNEL": channel or f"guru-test-{self.port}",
            **env,
        }
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
                 "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer in 30 s: {self.log()}")

    def kill(self, worker_too: bool = False) -> None:
        """As a crash would: no chance to finish anything. `worker_too`: gunicorn's worker dies with its
        master at once (a machine's crash), so the port is free for `start` again."""
        if self.process and self.process.poll() is None:
            if worker_too:
                import psutil

                for child in psutil.Process(self.process.pid).children(recursive=True):
                    child.kill()
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            # gunicorn's worker is a child of the killed master: it notices and exits; wait for the port.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    requests.get(f"{self.url}/healthz", timeout=0.5)
                except requests.RequestException:
                    return
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


class Listener:
    """A phone: a Socket.IO client that keeps every event it hears, in order."""

    def __init__(self, server: Server, token: str, mark=None):
        """`mark`: a dispatch.live.marks.PhoneMark, for a phone that keeps marks (as the pages do)."""
        self.server, self.token, self.mark = server, token, mark
        self.heard: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("offer", "offer_closed", "order_updated", "resume", "mark"):
            self.client.on(name, lambda data, name=name: self._hear(name, data))

    def _hear(self, name: str, data) -> None:
        if name == "mark" and self.mark is not None:
            self.mark.heard(data)
        self.heard.put((name, data, time.monotonic()))

    def connect(self) -> Listener:
        auth = {"token": self.token, **(self.mark.auth() if self.mark is not None else {})}
        self.client.connect(self.server.url, auth=auth, transports=["websocket"], wait_timeout=10)
        return self

    def disconnect(self) -> None:
        if self.client.connected:
            self.client.disconnect()

    def wait_for(self, name: str, timeout: float = 10.0, where=lambda data: True) -> dict:
        """The next event of that name that matches, skipping others; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name} event within {timeout} s")
            try:
                event, data, _ = self.heard.get(timeout=left)
            except queue.Empty:
                continue
            if event == name and where(data):
                return data

    def all_heard(self, settle: float = 0.5) -> list[tuple[str, dict]]:
        time.sleep(settle)
        out = []
        while not self.heard.empty():
            event, data, _ = self.heard.get_nowait()
            out.append((event, data))
        return out
