"""Refuse, before any view runs, input that no field can hold: a 4xx naming where it is.

- JSON nested deeper than MAX_DEPTH (1,000 deep made Python's parser raise RecursionError: a 500);
- text that is not Unicode a database can store: unpaired surrogates ("a\\ud800b" could not be
  encoded: a 500) and NUL characters (PostgreSQL refuses them, SQLite stored them: the same
  request answered differently on the two databases);
- numbers JSON can carry but Python will not read (an integer of 5,000 digits).

Query strings get the NUL check too, and on the API a parameter the OpenAPI document does not
declare for that operation is refused (422 naming it) rather than silently ignored: a typo such as
`?stauts=open` would otherwise return every order. Everything else is the schemas' work.
"""

from __future__ import annotations

import json
import re

from flask import Flask, current_app, request
from flask_smorest import abort

MAX_DEPTH = 32  # the deepest real body (an order's sessions) is 3 levels


def bad_text(text: str) -> str | None:
    """Why a string cannot be stored, or None. Shared with the CSV import."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (an unpaired surrogate)"
    return None


def _path_tree(path: list[str], message: str) -> dict:
    tree: dict | list = [message]
    for part in reversed(path or ["_schema"]):
        tree = {part: tree}
    return tree


def _refuse(location: str, path: list[str], message: str, status: int = 422):
    where = ".".join(path) or location
    abort(status, message=f"{where}: {message}", errors={location: _path_tree(path, message)})


def _walk(value, path: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        _refuse("json", path, f"nested more than {MAX_DEPTH} levels deep", status=400)
    if isinstance(value, str):
        if problem := bad_text(value):
            _refuse("json", path, problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            if problem := bad_text(key):
                _refuse("json", [*path, key.encode("utf-8", "replace").decode("utf-8")], f"the key {problem}")
            _walk(item, [*path, key], depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, [*path, str(index)], depth + 1)


_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _declared_query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """(OpenAPI path, method) -> the query parameters the document declares, built once per app."""
    cache = current_app.extensions.get("guru_query_parameters")
    if cache is None:
        from dispatch.extensions import api

        cache = {}
        for path, operations in api.spec.to_dict().get("paths", {}).items():
            for method, operation in operations.items():
                if isinstance(operation, dict):
                    names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
                    cache[(path, method.upper())] = frozenset(names)
        current_app.extensions["guru_query_parameters"] = cache
    return cache


def _check_undeclared_query() -> None:
    if not request.url_rule or not request.path.startswith("/api/v1/") or not request.args:
        return
    path = _RULE_PARAMETER.sub(r"{\1}", request.url_rule.rule)
    declared = _declared_query_parameters().get((path, request.method))
    if declared is None:  # not an operation of the document (docs, static files)
        return
    for name in request.args:
        if name not in declared:
            allowed = ", ".join(sorted(declared)) or "none"
            _refuse("query", [name or "_schema"], f"unknown query parameter (allowed: {allowed})")


def check_request() -> None:
    for name, value in request.args.items(multi=True):
        if problem := bad_text(name) or bad_text(value):
            _refuse("query", [name.replace("\x00", "")], problem)
    _check_undeclared_query()
    if not request.is_json or request.content_length == 0:
        return
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    try:
        body = json.loads(raw)
    except RecursionError:
        _refuse("json", [], f"nested more than {MAX_DEPTH} levels deep", status=400)
    except ValueError:  # not JSON, or a number Python will not read: the parser's 400 names the body
        abort(400, message="Invalid JSON body.", errors={"json": {"_schema": ["Invalid JSON body."]}})
    _walk(body, [], 0)


def install(app: Flask) -> None:
    app.before_request(check_request)
