"""The key that signs cookies, tokens, device tokens and hashes: never a well-known one.

Production refuses to start without a real `SECRET_KEY`. Development makes a random key once
per instance folder and keeps it (`instance/secret_key`, mode 0600), so restarts keep people
logged in and no two machines share a key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from config import KNOWN_SECRET_KEYS

MIN_LENGTH = 16
KEY_FILE = "secret_key"


class MissingSecretKey(SystemExit):
    """Stops the process with one line that says what to set (SystemExit prints its message)."""


def _kept_key(folder: Path) -> str:
    """The instance folder's key, made on first use; readable by this user only."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as out:
        key = secrets.token_hex(32)
        out.write(key + "\n")
    return key


def refuse_weak_key(config) -> None:
    """Stop (SystemExit, one line) if this configuration would sign with no key or a known one.
    gunicorn.conf.py calls it before forking, so the master exits instead of restarting workers."""
    key = getattr(config, "SECRET_KEY", None)
    if getattr(config, "TESTING", False) or getattr(config, "GENERATE_SECRET_KEY", False):
        return
    if not key or key in KNOWN_SECRET_KEYS or len(key) < MIN_LENGTH:
        raise MissingSecretKey(
            "guru online: refusing to start: set SECRET_KEY to a random value of at least "
            f"{MIN_LENGTH} characters (e.g. python -c 'import secrets; print(secrets.token_hex(32))'), "
            "not a default or example key"
        )


def ensure_secret_key(app: Flask) -> None:
    if app.config.get("GENERATE_SECRET_KEY") and not app.config.get("TESTING"):
        # Development: a key given is the developer's choice; none given, one kept per instance folder.
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _kept_key(Path(app.config["INSTANCE_DIR"]))
        return
    refuse_weak_key(type("Settings", (), dict(app.config)))
