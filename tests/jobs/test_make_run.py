"""`make run`'s processes: the Procfile under honcho starts gunicorn on PORT and the job worker on the
same DATABASE_URL, and one Ctrl-C (SIGINT to honcho) stops both."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from dispatch.accounts.auth import issue_token
from tests.dispatch_world import build_world
from tests.factories import next_weekday
from tests.jobs.worker_process import ROOT, alive
from tests.live_server import free_port


def test_the_procfile_serves_on_port_runs_jobs_and_stops_on_ctrl_c(queue_app, database_url, jobs_settings, tmp_path):
    with queue_app.app_context():
        token = issue_token(build_world().admin)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "testing-secret", "GURU_CONFIG": "development",
           "MATCHING_TIME_LIMIT": "2", "MATCHING_WORKERS": "1", "SERVER_THREADS": "50",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", **jobs_settings}  # fmt: skip
    env.pop("REDIS_URL", None)
    log_path = tmp_path / "honcho.log"
    with open(log_path, "wb") as log:
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "--procfile", "Procfile", "--port", str(port), "--no-colour"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url, pids = f"http://127.0.0.1:{port}", []
    try:
        deadline = time.monotonic() + 60
        while "Huey consumer started" not in log_path.read_text() or not _healthy(url):
            assert honcho.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        monday = next_weekday(0)
        headers = {"Authorization": f"Bearer {token}"}
        body = {"from": monday.isoformat(), "to": monday.isoformat()}
        posted = requests.post(f"{url}/api/v1/matching/runs", json=body, headers=headers, timeout=10)
        assert posted.status_code == 202, posted.text
        while (run := requests.get(f"{url}/api/v1/matching/runs/{posted.json()['id']}", headers=headers,
                                   timeout=10).json())["status"] in ("queued", "running"):  # fmt: skip
            assert time.monotonic() < deadline + 120, run
            time.sleep(0.2)
        assert (run["status"], run["offers"]) == ("done", 2)
        pids += [int(p) for p in re.findall(r"(?:web|worker)\.1 started \(pid=(\d+)\)", log_path.read_text())]
        assert len(pids) == 2
    finally:
        honcho.send_signal(signal.SIGINT)  # what Ctrl-C does to `make run`
        assert honcho.wait(30) is not None
    text = log_path.read_text()
    assert "web.1 stopped" in text and "worker.1 stopped" in text, text
    assert not any(alive(pid) for pid in pids)
    assert not _healthy(url)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
