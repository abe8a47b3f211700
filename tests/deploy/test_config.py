"""deploy/run's generated files: an nginx.conf that nginx itself accepts (plain and HTTPS), and a Procfile
that starts every part under deploy/respawn."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

from config import TestingConfig
from deploy.prod import procfile, render_nginx


def nginx_or_skip() -> str:
    path = shutil.which("nginx")
    if path is None:
        if TestingConfig.REQUIRE_SERVICES:
            pytest.fail("GURU_REQUIRE_SERVICES is set but nginx is not installed")
        pytest.skip("nginx not installed (Debian: apt-get install nginx)")
    return path


def nginx_accepts(nginx: str, state, text: str) -> subprocess.CompletedProcess:
    (state / "nginx-tmp").mkdir(exist_ok=True)
    (state / "nginx.conf").write_text(text)
    return subprocess.run([nginx, "-t", "-p", str(state), "-c", str(state / "nginx.conf")], capture_output=True,
                          text=True, timeout=30)  # fmt: skip


def test_nginx_accepts_the_plain_configuration_with_sticky_socket_io(tmp_path):
    text = render_nginx(tmp_path, 18000, [18001, 18002])
    result = nginx_accepts(nginx_or_skip(), tmp_path, text)
    assert result.returncode == 0, result.stderr
    directives = [line.strip() for line in text.splitlines() if not line.strip().startswith("#")]
    assert "hash $guru_node consistent;" in directives and not any(d.startswith("ip_hash") for d in directives)
    assert "server 127.0.0.1:18001" in text and "server 127.0.0.1:18002" in text and " ssl" not in text


def test_nginx_accepts_the_https_configuration(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                           str(cert), "-days", "1", "-subj", "/CN=localhost"], capture_output=True, timeout=60)  # fmt: skip
    assert made.returncode == 0, made.stderr
    text = render_nginx(tmp_path, 18443, [18001], tls=(str(cert), str(key)))
    result = nginx_accepts(nginx_or_skip(), tmp_path, text)
    assert result.returncode == 0, result.stderr
    assert "listen 18443 ssl" in text


def test_the_procfile_runs_each_web_process_and_worker_under_respawn(tmp_path):
    lines = procfile(tmp_path, [18001, 18002], workers=1).splitlines()
    names = [line.split(":", 1)[0] for line in lines]
    assert names == ["nginx", "web1", "web2", "worker1", "health"]
    for line in lines[1:4]:
        assert "deploy/respawn" in line
    assert "--bind 127.0.0.1:18002" in lines[2] and "jobs-worker" in lines[3]


def test_respawn_starts_a_process_again_but_does_not_spin_on_one_that_cannot_start(tmp_path):
    runs = tmp_path / "runs"
    respawn = subprocess.Popen(["sh", "deploy/respawn", "sh", "-c", f"echo run >> {runs}; exit 3"],
                               stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        _, said = respawn.communicate(timeout=3.5)
    except subprocess.TimeoutExpired:
        os.killpg(respawn.pid, signal.SIGKILL)  # the loop and its sleep alike
        _, said = respawn.communicate()
    # A process that dies within 10 s of starting is started again after 2 s: at most twice in 3.5 s,
    # however fast the machine (a restart at once would have run it hundreds of times).
    assert 1 <= runs.read_text().count("run") <= 2
    assert "exited with status 3; starting it again in 2 s" in said


def test_web_processes_let_the_gil_go_less_often_than_pythons_default(monkeypatch):
    """Thousands of socket threads each wake once per switch interval to ask for the GIL (config.py)."""
    import runpy
    import sys

    import dispatch.clock

    settings = runpy.run_path("gunicorn.conf.py")
    started = []
    monkeypatch.setattr(dispatch.clock, "start", started.append)
    monkeypatch.setattr("gc.freeze", lambda: None)
    monkeypatch.setattr("gc.set_threshold", lambda *a: None)
    before = sys.getswitchinterval()
    try:
        settings["post_worker_init"](type("Worker", (), {"wsgi": "the app"})())
        assert sys.getswitchinterval() == pytest.approx(TestingConfig.SERVER_SWITCH_INTERVAL) == pytest.approx(0.05)
        assert started == ["the app"]
    finally:
        sys.setswitchinterval(before)


def test_the_peak_bench_counts_push_back_once_the_p99_target_holds_not_at_a_lone_slow_offer_later():
    from bench.peak.run import push_back_after

    ended = 100.0
    normal = [(ended + 20 + i * 0.5, 80.0) for i in range(200)]  # 200 orders afterwards, well under 500 ms
    burst = [(ended + 1, 4000.0), (ended + 3, 2500.0), (ended + 6.5, 900.0)]  # the reconnecting phones
    lone = [(ended + 60, 700.0)]  # one slow offer a minute later: within what a p99 allows
    assert push_back_after(burst + normal + lone, began=ended - 0.2, ended=ended) == 20.0  # after the burst
    assert push_back_after(burst, began=ended, ended=ended) == 6.5  # still slow at its last order
    assert push_back_after(normal, began=ended, ended=ended) == 0.0  # never slow
    assert push_back_after([], began=ended, ended=ended) == 0.0
