"""gunicorn settings for `make run` and production.

One process per port with threads: Socket.IO needs every request of one client
to reach the same process; more processes share events through Redis.
"""

workers = 1
worker_class = "gthread"
threads = 32
timeout = 60
accesslog = "-"
