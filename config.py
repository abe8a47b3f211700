"""Settings. The only module that reads the environment.

`GURU_CONFIG` picks the class (development, production, testing); every other
value is parsed here once, with its type, so the rest of the code reads
`app.config[...]` and never `os.environ`.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def database_url(url: str | None) -> str:
    """Normalise a DATABASE_URL: plain postgres URLs use the psycopg 3 driver."""
    if not url:
        return f"sqlite:///{BASE_DIR / 'instance' / 'guru.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Keys that are public knowledge (the old built-in default, the tests' key): never sign anything real.
KNOWN_SECRET_KEYS = frozenset({"dev-only-secret-change-me", "testing-secret", "change-me", "secret", ""})


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value in (None, "") else value.lower() not in ("0", "false", "no", "off")


class Config:
    # No built-in key: production refuses to start without one; development makes one per instance
    # folder (instance/secret_key, mode 0600) so that no well-known key ever signs a cookie or token.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR") or BASE_DIR / "instance")
    GENERATE_SECRET_KEY = False  # development only: make and keep a random key in INSTANCE_DIR
    ALLOW_DEMO_PASSWORDS = False  # the demo district's printed passwords work in development only
    # Behind a reverse proxy, how many proxies set X-Forwarded-For / -Proto (the login and rating limits
    # count by the client's address, so it must be the real one). 0: the peer address is the client.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    # The address students' phones open (the rating QR): e.g. https://guru.bungokab.go.id.
    # Empty: the address the request came in on.
    PUBLIC_URL = (os.environ.get("PUBLIC_URL") or "").rstrip("/")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))

    # --- Production: fail fast, recover alone (README "Production") ---
    # A dead pooled connection is noticed before use (pool_pre_ping) and replaced; a database that
    # does not answer fails the request within seconds with 503, never a hung thread. With thousands
    # of threads per process, most holding a phone's socket, only requests use connections: a process
    # keeps DB_POOL_SIZE and opens up to DB_MAX_OVERFLOW more at the peak; a request waits at most
    # DB_POOL_TIMEOUT seconds for one (a database that is down fails at once; this wait is only for
    # a busy one: at 5 s the morning peak on 2 cores shed a few requests as 503, bench/peak).
    # PostgreSQL's max_connections must cover every process's total.
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 10)
    DB_MAX_OVERFLOW = _env_int("DB_MAX_OVERFLOW", 20)
    DB_POOL_TIMEOUT = _env_float("DB_POOL_TIMEOUT", 20.0)
    DB_CONNECT_TIMEOUT = _env_int("DB_CONNECT_TIMEOUT", 3)  # seconds (libpq: 2 at least)
    # Per statement, and for a transaction left idle (a stuck thread must not hold a teacher's row lock).
    DB_STATEMENT_TIMEOUT_MS = _env_int("DB_STATEMENT_TIMEOUT_MS", 15_000)
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = _env_int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000)
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    if SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        SQLALCHEMY_ENGINE_OPTIONS |= {
            "pool_size": DB_POOL_SIZE,
            "max_overflow": DB_MAX_OVERFLOW,
            "pool_timeout": DB_POOL_TIMEOUT,
            "connect_args": {"connect_timeout": DB_CONNECT_TIMEOUT},
        }
    # Live push after a Redis outage: each process retries its subscription this often (a refused
    # connection is cheap), then tells its phones to resync; python-socketio's own backoff grows to 60 s.
    LIVE_RESUBSCRIBE_SECONDS = _env_float("LIVE_RESUBSCRIBE_SECONDS", 1.0)
    # --- end of the production block ---
    # Live push: with REDIS_URL, every process (servers, solver runs, commands) shares Socket.IO
    # events through Redis, so several server processes can serve the phones.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "guru-online")
    # Seconds between pings: a phone on a weak signal is noticed gone within about twice this.
    SOCKETIO_PING_INTERVAL = _env_int("SOCKETIO_PING_INTERVAL", 25)
    # The service's own clock: every this many seconds it expires offers, sends waves that are
    # due and marks no-shows, so all of it happens on time without any request (0 turns it off).
    CLOCK_SECONDS = _env_float("CLOCK_SECONDS", 1.0)
    # gunicorn: one process per port; each open socket holds a thread, so threads are many.
    SERVER_THREADS = _env_int("SERVER_THREADS", 2500)
    # Seconds a thread may hold the GIL while others wait for it (Python's default: 0.005). Every waiting
    # thread wakes up once per interval to ask for it, so with thousands of socket threads waking together
    # (a crowd disconnecting or reconnecting) the default spent a core on those wake-ups alone: 1,200
    # sockets closing at once cost 8-10 ms of CPU each, 1.2-2 ms at 0.05 (bench/RESULTS.md, 2026-11-28).
    # Requests give the GIL up at every database or socket call, so the longer interval costs them little.
    # 0 keeps Python's default.
    SERVER_SWITCH_INTERVAL = _env_float("SERVER_SWITCH_INTERVAL", 0.05)
    # Open Socket.IO connections one process takes; beyond them a phone is told 503 and retries. A
    # tenth of the threads (at least 16) stays for requests (dispatch/live/capacity.py).
    LIVE_CONNECTIONS_MAX = _env_int("LIVE_CONNECTIONS_MAX", max(1, SERVER_THREADS - max(16, SERVER_THREADS // 10)))
    # Signed API tokens expire; a phone logs in again after this many seconds.
    TOKEN_MAX_AGE = _env_int("TOKEN_MAX_AGE", 7 * 24 * 3600)
    PASSWORD_HASH_METHOD = "scrypt"
    SESSION_COOKIE_SAMESITE = "Lax"  # the pages' cookie is not sent on other sites' POSTs
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SECURE = False  # production: True (HTTPS only); development serves plain http
    HTTPS_ONLY = False  # production: redirect to https and send HSTS (flask-talisman)
    # CSRF (Flask-WTF) on every cookie-authenticated write; bearer-token calls carry no cookie and are exempt.
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # tied to the session, which a password change ends anyway
    WTF_CSRF_CHECK_DEFAULT = False  # checked in one before_request hook that knows about bearer tokens
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # CSV imports; anything bigger is a mistake

    # District defaults: the first start writes them into the district row, where
    # the district admin changes them through the API.
    DISTRICT_NAME = os.environ.get("DISTRICT_NAME", "Kabupaten Bungo")
    DISTRICT_CODE = os.environ.get("DISTRICT_CODE", "15.08")
    DISTRICT_TIMEZONE = os.environ.get("DISTRICT_TIMEZONE", "Asia/Jakarta")
    ROAD_SPEED_KMH = _env_float("ROAD_SPEED_KMH", 30.0)
    TRAVEL_BUFFER_MIN = _env_int("TRAVEL_BUFFER_MIN", 10)
    MAX_RADIUS_KM = _env_float("MAX_RADIUS_KM", 25.0)
    OFFER_TIMEOUT_MIN = _env_int("OFFER_TIMEOUT_MIN", 120)
    URGENT_OFFER_TIMEOUT_MIN = _env_int("URGENT_OFFER_TIMEOUT_MIN", 10)
    FAVOURITE_HEAD_START_MIN = _env_int("FAVOURITE_HEAD_START_MIN", 3)
    LATE_WITHDRAWAL_HOURS = _env_int("LATE_WITHDRAWAL_HOURS", 24)
    CHECKIN_DISTANCE_M = _env_int("CHECKIN_DISTANCE_M", 300)
    CHECKIN_GRACE_MIN = _env_int("CHECKIN_GRACE_MIN", 15)
    # The district office's map: kecamatan polygons (GeoJSON, properties `code` and `level`).
    DISTRICT_BOUNDARIES = os.environ.get("DISTRICT_BOUNDARIES") or str(
        BASE_DIR / "dispatch" / "data" / "bungo" / "bungo_kecamatan_boundaries.geojson"
    )

    # OpenAPI (flask-smorest); Swagger UI is served from the installed
    # swagger-ui-bundle package, never from a CDN.
    API_TITLE = "guru online"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/static/"
    API_SPEC_OPTIONS = {
        "info": {
            "description": (
                'Times of day are local district time ("HH:MM"), dates ISO ("2026-01-05"). '
                "**Every instant** (created_at, expires_at, valid_until, checked_in_at, ...) **is ISO 8601 with "
                'its offset, in the district\'s time zone** ("2026-01-05T07:30:00+07:00"). '
                "Bad input is a 400 or 422 whose `errors` name each field (JSON numbers and booleans are "
                'strict: "1.5" is not a number, "yes" is not a boolean; unknown query parameters are '
                "refused). Writes from the pages' cookie session carry the `X-CSRFToken` header; bearer-token "
                "calls do not need it. Too many failed logins: 429 with Retry-After."
            )
        }
    }

    BABEL_DEFAULT_LOCALE = "id"
    LANGUAGES = ("id", "en")  # Indonesian first; the catalogues live in dispatch/translations

    # The weekly plan: solver seconds per week planned, and CP-SAT workers. A what-if plans each
    # week twice (as it is, and with the added teachers) with the same limit by default, so its
    # "before" is the weekly plan's own answer for that week.
    MATCHING_TIME_LIMIT = _env_float("MATCHING_TIME_LIMIT", 60.0)
    MATCHING_WORKERS = _env_int("MATCHING_WORKERS", 2)
    MATCHING_WHATIF_TIME_LIMIT = _env_float("MATCHING_WHATIF_TIME_LIMIT", MATCHING_TIME_LIMIT)

    # Job queue (Huey, dispatch/jobs.py): plans and what-ifs run in the worker process
    # (`flask --app wsgi jobs-worker`, started by `make run` beside gunicorn), never in a web process.
    # JOBS_URL picks the storage: redis://... in production, else REDIS_URL's Redis, else a SQLite
    # file of its own beside the database (no server needed).
    JOBS_URL = (
        os.environ.get("JOBS_URL") or os.environ.get("REDIS_URL") or f"sqlite:///{BASE_DIR / 'instance' / 'jobs.db'}"
    )
    JOBS_NAME = os.environ.get("JOBS_NAME", "guru-online")  # the queue's name (Redis key prefix)
    JOBS_IMMEDIATE = False  # tests: Huey's immediate mode runs each job in-process at enqueue
    # The solver's CPU priority (nice, 0-19): on a machine shared with the web server, schools' and
    # teachers' requests come first and the solver has every cycle they leave (bench/jobs.py).
    JOBS_SOLVER_NICE = _env_int("JOBS_SOLVER_NICE", 10)
    # Fault tests only: while this file exists, a solver child waits before it plans, so a test can
    # kill or cancel a run that is certainly in the solver however fast the machine (unset: never).
    SOLVER_HOLD_FILE = os.environ.get("GURU_SOLVER_HOLD_FILE") or None

    # Limits (Flask-Limiter): counts in Redis when REDIS_URL is set, so several processes share them;
    # in memory otherwise, and in memory for a while if Redis goes away (never a 500 for it).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on every 429
    RATELIMIT_KEY_PREFIX = "guru-limits"
    # Failed logins (successful ones never count): per username, and per client address.
    LOGIN_LIMIT_PER_USERNAME = os.environ.get("LOGIN_LIMIT_PER_USERNAME", "10 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "60 per 15 minutes")
    # Ratings: once per device per lesson is the rule; the address limit only stops floods. A class of
    # 40 behind one school network sends 40 in a minute or two, so an address gets 120 a minute and
    # 600 an hour (bench/security.py); each lesson's code takes at most RATINGS_PER_CODE (district setting).
    RATINGS_RATE_LIMIT = os.environ.get("RATINGS_RATE_LIMIT", "120 per minute; 600 per hour")
    RATINGS_PER_CODE = _env_int("RATINGS_PER_CODE", 60)
    # Dates of lessons and plans at most this many days ahead (district setting).
    DATE_HORIZON_DAYS = _env_int("DATE_HORIZON_DAYS", 400)


class DevelopmentConfig(Config):
    GENERATE_SECRET_KEY = True
    ALLOW_DEMO_PASSWORDS = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    HTTPS_ONLY = _env_bool("HTTPS_ONLY", True)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    ALLOW_DEMO_PASSWORDS = True  # tests/dispatch/test_cli_migrations.py logs in as the demo admin
    # Flask-WTF's advice for tests; the pages' tests (tests/pages/conftest.py), the CSRF tests and the real
    # servers of the browser tests run with it on.
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = None  # tests that use Redis say so
    CLOCK_SECONDS = 0.0  # tests call the clock's tick themselves, or run a real server
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast on purpose: tests create many users
    MATCHING_TIME_LIMIT = 1.0
    MATCHING_WORKERS = 1
    MATCHING_WHATIF_TIME_LIMIT = 1.0
    # In-memory SQLite is one connection, so in-process tests run each job at once (Huey's immediate
    # mode), right after the request's commit; tests/jobs/ run the real worker process instead.
    JOBS_IMMEDIATE = True
    JOBS_URL = "memory://"
    # CI sets these: tests that need PostgreSQL or Redis use them and, with
    # GURU_REQUIRE_SERVICES set, fail instead of skipping when they are missing.
    POSTGRES_TEST_URL = (
        database_url(os.environ.get("TEST_DATABASE_URL")) if os.environ.get("TEST_DATABASE_URL") else None
    )
    REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL") or None
    REQUIRE_SERVICES = os.environ.get("GURU_REQUIRE_SERVICES", "") not in ("", "0", "false")


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def selected_config() -> type[Config]:
    return CONFIGS[os.environ.get("GURU_CONFIG", "development")]
