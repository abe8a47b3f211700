"""The production deployment on one machine, in one command (`make prod`, `deploy/run`).

    deploy/run [start] [--web 2] [--workers 1] [--port 8000] [--state instance/prod]
    deploy/run restart [--state ...]      # rolling restart of the web processes, one at a time
    deploy/run check [--state ...]        # each part's health, once; exit 1 if any is down

`start` runs, in order: PostgreSQL and Redis of its own when DATABASE_URL / REDIS_URL are not set
(under the state folder; deploy/services.py), the migrations (`flask db upgrade`, once), then the
Procfile it writes into the state folder, under honcho: nginx on --port in front of --web gunicorn
processes (one per port from --port + 1, the project's gunicorn.conf.py), --workers job workers and
a health watcher. Ctrl-C or SIGTERM stops all of it, own database and Redis last.

Settings come from the environment through config.py, as for every process: GURU_CONFIG
(production here), DATABASE_URL, REDIS_URL, SECRET_KEY. See README "Production".
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import string
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from deploy.services import PostgresCluster, RedisServer, port_open, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the project's .venv/bin: gunicorn, flask, honcho
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
# Keys anyone can read in this repository: never sign a production cookie or token with them.
PUBLIC_KEYS = {None, "", "dev-only-secret-change-me", "testing-secret"}


def web_ports(port: int, count: int) -> list[int]:
    return [port + 1 + i for i in range(count)]


def render_nginx(
    state: Path, listen: int, ports: list[int], worker_processes: int = 1, tls: tuple[str, str] | None = None
) -> str:
    """nginx.conf for the web processes on `ports` (127.0.0.1), listening on `listen` (HTTPS with `tls`:
    the certificate and key files)."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)
    tls_lines = (
        f"        ssl_certificate {tls[0]};\n        ssl_certificate_key {tls[1]};\n"
        "        ssl_protocols TLSv1.2 TLSv1.3;\n        ssl_session_cache shared:guru_tls:10m;\n"
        if tls
        else ""
    )
    text = string.Template(TEMPLATE.read_text()).safe_substitute(
        state=str(state), listen=str(listen), upstream_servers=servers, worker_processes=str(worker_processes),
        ssl=" ssl" if tls else "", tls=tls_lines,
    )  # fmt: skip
    assert "${" not in text, "a placeholder of nginx.conf.template was not filled in"
    return text


def procfile(state: Path, ports: list[int], workers: int, nginx: str = "nginx") -> str:
    """The processes honcho starts and stops together; each line runs from the project's root."""
    respawn = ROOT / "deploy" / "respawn"  # a web process or worker that dies comes back; the rest go on
    lines = [f"nginx: {nginx} -p {state} -c {state}/nginx.conf -g 'daemon off;'"]
    for i, port in enumerate(ports, 1):
        lines.append(
            f"web{i}: {respawn} {BIN}/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:{port}"
            f" --pid {state}/web{i}.pid wsgi:app"
        )
    for i in range(1, workers + 1):
        lines.append(f"worker{i}: {respawn} {BIN}/flask --app wsgi jobs-worker")
    lines.append(f"health: {BIN}/python -m deploy.prod watch --state {state}")
    return "\n".join(lines) + "\n"


def _settings():
    import config

    chosen = config.selected_config()
    return chosen


def _database_and_redis(args, state: Path, own: list) -> tuple[str, str]:
    """The URLs to use: the environment's, or PostgreSQL and Redis started here under the state folder."""
    settings = _settings()
    database = os.environ.get("DATABASE_URL") or ""
    if not database:
        cluster = PostgresCluster(state / "postgres", port=args.pg_port).init()
        if not cluster.running():
            cluster.start()
        own.append(cluster)
        database = cluster.url
        print(f"deploy: PostgreSQL of its own on port {cluster.port} ({cluster.data})", flush=True)
    elif not settings.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        sys.exit("deploy: DATABASE_URL must be PostgreSQL in production (SQLite is for `make run`)")
    redis_url = settings.REDIS_URL or ""
    if not redis_url:
        redis = RedisServer(state / "redis", port=args.redis_port).start()
        own.append(redis)
        redis_url = redis.url
        print(f"deploy: Redis of its own on port {redis.port}", flush=True)
    return database, redis_url


def _child_environment(database: str, redis_url: str, tls: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GURU_CONFIG", "production")
    if not tls:
        # Plain HTTP on this port (a trial, or a TLS load balancer in front that the operator vouches for):
        # production's redirect to https and secure-only cookies would lock everyone out.
        env.setdefault("HTTPS_ONLY", "0")
        env.setdefault("SESSION_COOKIE_SECURE", "0")
    env["DATABASE_URL"] = database
    env["REDIS_URL"] = redis_url
    env.setdefault("RATELIMIT_STORAGE_URI", redis_url)  # limits counted across processes
    env.setdefault("JOBS_URL", redis_url)  # the job queue in Redis
    env.setdefault("TRUSTED_PROXIES", "1")  # nginx sets X-Forwarded-For: limits count the real client
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    return env


def start(args) -> int:
    if bool(args.tls_cert) != bool(args.tls_key):
        sys.exit("deploy: --tls-cert and --tls-key go together")
    state = Path(args.state).resolve()
    state.mkdir(parents=True, exist_ok=True)
    (state / "nginx-tmp").mkdir(exist_ok=True)
    settings = _settings()
    if os.environ.get("SECRET_KEY") in PUBLIC_KEYS or settings.SECRET_KEY in PUBLIC_KEYS:
        sys.exit("deploy: set SECRET_KEY to a long random value (e.g. `python3 -c 'import secrets; "
                 "print(secrets.token_urlsafe(48))'`); every process must share it")  # fmt: skip
    ports = web_ports(args.port, args.web)
    busy = [p for p in [args.port, *ports] if port_open(p)]
    if busy:
        sys.exit(f"deploy: port(s) {busy} already in use; choose --port")
    own: list = []
    honcho: subprocess.Popen | None = None

    def _stop(signum, _frame):
        if honcho is not None and honcho.poll() is None:
            honcho.send_signal(signal.SIGTERM)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        database, redis_url = _database_and_redis(args, state, own)
        tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
        if tls is None:
            print("deploy: plain HTTP (no --tls-cert): fine for a trial; for phones, give nginx a certificate "
                  "(--tls-cert/--tls-key) or put an HTTPS load balancer in front", flush=True)  # fmt: skip
        env = _child_environment(database, redis_url, tls is not None)
        print("deploy: migrations (flask db upgrade)", flush=True)
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True)
        (state / "nginx.conf").write_text(render_nginx(state, args.port, ports, args.nginx_workers, tls))
        (state / "Procfile").write_text(procfile(state, ports, args.workers, args.nginx))
        (state / "deploy.json").write_text(
            json.dumps(
                {
                    "port": args.port,
                    "web_ports": ports,
                    "workers": args.workers,
                    "redis_url": redis_url,
                    "database_url": database,
                    "tls": tls is not None,
                    "started": time.time(),
                }
            )
        )
        print(f"deploy: nginx on :{args.port}, web on {ports}, {args.workers} worker(s); state in {state}", flush=True)
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "start", "--procfile", str(state / "Procfile"), "--app-root", str(ROOT),
             "--no-colour"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        return honcho.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if honcho is not None and honcho.poll() is None:
            honcho.send_signal(signal.SIGTERM)
            honcho.wait(30)
        for service in reversed(own):
            service.stop()


# --- health -------------------------------------------------------------------------------------------


def _load_state(state: Path) -> dict:
    return json.loads((Path(state) / "deploy.json").read_text())


def health(state: Path) -> dict[str, str]:
    """Each part's state: "ok", or why not."""
    info = _load_state(state)
    checks: dict[str, str] = {}

    def get(name: str, url: str) -> None:
        try:
            response = requests.get(url, timeout=3, verify=False)  # our own nginx, by address: no name to verify
            checks[name] = "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            checks[name] = f"down ({type(exc).__name__})"

    scheme = "https" if info.get("tls") else "http"
    if info.get("tls"):
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    get("nginx", f"{scheme}://127.0.0.1:{info['port']}/nginx-health")
    for i, port in enumerate(info["web_ports"], 1):
        get(f"web{i}", f"http://127.0.0.1:{port}/healthz")
    redis_url = urlsplit(info["redis_url"])
    checks["redis"] = "ok" if port_open(redis_url.port or 6379, redis_url.hostname or "127.0.0.1") else "down"
    return checks


def watch(args) -> int:
    """The Procfile's health process: logs each part's state when it changes; never exits by itself."""
    state = Path(args.state)
    last: dict[str, str] = {}
    ready = False
    while True:
        try:
            now = health(state)
        except Exception as exc:  # the state file is being written: try again
            now = {"deploy": f"unknown ({exc})"}
        for name, value in now.items():
            if last.get(name) != value and (ready or value == "ok" or name in last):
                print(f"health: {name} {value}", flush=True)
        if not ready and all(v == "ok" for v in now.values()):
            ready = True
            print("health: all parts ready", flush=True)
        last = now
        time.sleep(args.every)


def check(args) -> int:
    checks = health(Path(args.state))
    for name, value in checks.items():
        print(f"{name:8} {value}")
    return 0 if all(v == "ok" for v in checks.values()) else 1


# --- rolling restart ----------------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(p) for p in text.split()}


def restart(args) -> int:
    """One web process at a time: gunicorn's HUP starts a new worker with the code on disk and lets the
    old one finish (graceful_timeout); the next process goes only when this one answers /healthz again
    from its new worker. nginx keeps the other processes serving meanwhile."""
    state = Path(args.state)
    info = _load_state(state)
    for i, port in enumerate(info["web_ports"], 1):
        master = int((state / f"web{i}.pid").read_text())
        old = _children(master)
        started = time.monotonic()
        os.kill(master, signal.SIGHUP)

        def replaced(master=master, old=old, port=port) -> bool:
            now = _children(master)
            if not now or now & old:
                return False
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(replaced, args.timeout, f"web{i} (port {port}) to come back after HUP", interval=0.2)
        print(f"restart: web{i} on :{port} serving from a new worker after {time.monotonic() - started:.1f} s",
              flush=True)  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="start", choices=["start", "restart", "check", "watch"])
    parser.add_argument("--state", default=str(ROOT / "instance" / "prod"), help="folder for config, pids, logs")
    parser.add_argument("--port", type=int, default=8000, help="nginx's port; web processes use the next ones")
    parser.add_argument("--web", type=int, default=2, help="gunicorn processes (one per port)")
    parser.add_argument("--workers", type=int, default=1, help="job worker processes")
    parser.add_argument("--nginx", default="nginx", help="the nginx binary")
    parser.add_argument("--tls-cert", help="HTTPS on --port: the certificate (chain) file for nginx")
    parser.add_argument("--tls-key", help="HTTPS on --port: its private key file")
    parser.add_argument("--nginx-workers", type=int, default=1, help="nginx worker processes")
    parser.add_argument("--pg-port", type=int, default=5433, help="own PostgreSQL's port (no DATABASE_URL)")
    parser.add_argument("--redis-port", type=int, default=6380, help="own Redis's port (no REDIS_URL)")
    parser.add_argument("--every", type=float, default=2.0, help="watch: seconds between checks")
    parser.add_argument("--timeout", type=float, default=120.0, help="restart: seconds to wait for each process")
    args = parser.parse_args(argv)
    return {"start": start, "restart": restart, "check": check, "watch": watch}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
