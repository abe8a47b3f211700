"""The job worker as `make run` starts it: `flask --app wsgi jobs-worker`, a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


class Worker:
    def __init__(self, database_url: str, jobs_url: str, jobs_name: str, log_dir: Path, **env):
        self.log_path = log_dir / f"worker-{jobs_name}.log"
        self.env = {
            **os.environ,
            "GURU_CONFIG": "development",
            "DATABASE_URL": database_url,
            "JOBS_URL": jobs_url,
            "JOBS_NAME": jobs_name,
            "SECRET_KEY": "testing-secret",
            "MATCHING_WORKERS": "1",
            **env,
        }
        if "REDIS_URL" not in env:
            self.env.pop("REDIS_URL", None)
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Worker:
        """Start the worker and wait until its consumer listens (after it recovered stale runs)."""
        self.starts += 1
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "jobs-worker"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited: {self.log()}")
            if self.log().count("Huey consumer started") >= self.starts:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the worker did not start in 60 s: {self.log()}")

    def children(self) -> list[int]:
        """Pids of the worker's child processes (the solver)."""
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                out.append(int(stat.parent.name))
        return out

    def kill(self) -> None:
        """As a crash would: SIGKILL, no chance to finish anything."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def nice_of(pid: int) -> int:
    """The process's nice value (field 19 of /proc/<pid>/stat)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
