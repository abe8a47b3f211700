"""The pages' fixtures: the real-server ones of tests/dispatch, and a cookie login with its CSRF token."""

from __future__ import annotations

import re

import pytest

from tests.conftest import build_app, clear_database
from tests.dispatch.conftest import database_url, redis_url, served_world, servers  # noqa: F401

PASSWORD = "secret-password"  # tests/factories.user


@pytest.fixture
def app(database):
    """The pages' app keeps CSRF on, as in production: every form and cookie write carries the token."""
    app = build_app(database, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
    clear_database(app, database)


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(client, username, password=PASSWORD, lang=None):
    """Log in through the page's form, as a browser does: the form carries the CSRF token."""
    path = "/masuk" + (f"?lang={lang}" if lang else "")
    token = csrf_of(client.get(path).get_data(as_text=True))
    return client.post(path, data={"username": username, "password": password, "csrf_token": token})


def page_token(client, path="/csrf") -> str:
    return client.get(path).get_json()["csrf_token"]
