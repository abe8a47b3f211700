"""gunicorn settings for `make run` and production.

One process per port with many threads: an open Socket.IO connection holds a
thread (python-engineio's threading mode with simple-websocket), so the thread
count is the number of phones one process can hold. More processes (one per
port, behind a proxy with sticky sessions) share events through Redis.
The service's clock (offer expiry, head starts, no-shows) starts in the worker.
"""

from config import Config

workers = 1
worker_class = "gthread"
threads = Config.SERVER_THREADS
worker_connections = Config.SERVER_THREADS + 100
timeout = 60
graceful_timeout = 10
accesslog = "-"
# gunicorn 27 opens a control socket at one fixed path per user; processes on several ports would share it.
control_socket_disable = True
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def on_starting(server):
    from config import selected_config
    from dispatch.secret_key import refuse_weak_key

    refuse_weak_key(selected_config())  # production without a real SECRET_KEY: one line, and no server


def post_worker_init(worker):
    import gc
    import sys

    from dispatch import clock

    # Thousands of open sockets make many long-lived objects; a full collection walking them all
    # stalled requests by 250 ms every few seconds (bench/live.py). Everything loaded so far stays,
    # and collections run less often.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    if Config.SERVER_SWITCH_INTERVAL > 0:  # thousands of threads: see config.py (0 keeps Python's default)
        sys.setswitchinterval(Config.SERVER_SWITCH_INTERVAL)
    clock.start(worker.wsgi)
