"""Property tests over the whole API.

1. schemathesis over the OpenAPI document: every operation, called by every role with generated
   paths, queries and bodies, both valid (positive) and schema-violating (negative), gets no server
   error and no contract finding: statuses, content types, headers (X-Pagination, Allow) and bodies
   as documented, and every schema-violating request refused. Only "positive data acceptance" is
   left out: a body valid by the schema may still break a business rule (an unknown subject, a
   session in the past) and is rightly refused with a 4xx.
2. hypothesis: arbitrary JSON (deep, wide, odd Unicode, huge numbers) posted to every write route
   of the API gets a 4xx, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from schemathesis import checks as C
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode

from dispatch.extensions import db

ROLES = (None, "admin", "op_a", "user_t1")
CONTRACT_CHECKS = [
    C.not_a_server_error,
    C.status_code_conformance,
    C.content_type_conformance,
    C.response_headers_conformance,
    C.response_schema_conformance,
    C.negative_data_rejection,
    C.missing_required_header,
    C.unsupported_method,
    C.allow_header_conformance,
]


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_no_server_error_and_no_contract_finding(app, world, role):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = world.headers(role)
    findings: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

        @settings(max_examples=25, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=strategy)
        def call(case):
            try:
                case.call_and_validate(headers=headers, checks=CONTRACT_CHECKS)
            except FailureGroup as group:
                findings.extend(f"{case.operation.label}: {failure.title}" for failure in group.exceptions)
            except Failure as failure:
                findings.append(f"{case.operation.label}: {failure.title}")

        call()
    assert sorted(set(findings)) == []


# 2. Arbitrary JSON to every write route: 4xx and nothing written -----------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(st.characters(), max_size=30)
    | st.text(st.characters(categories=["Cs", "Cc", "Co"]), max_size=5),  # lone surrogates, NUL, private use
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=40,
)  # fmt: skip


class RawJson:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"RawJson({self.text[:20]}… {len(self.text)} chars)"


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def write_routes(app) -> list[tuple[str, str, object]]:
    """(method, path with ids filled in, body schema) for every API write that reads a JSON body."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            function = getattr(view_class, method.lower(), None) if view_class else view
            doc = getattr(function, "_apidoc", {}) or {}
            schemas = [p["schema"] for p in doc.get("arguments", {}).get("parameters", []) if p.get("in") == "json"]
            if not schemas:
                continue  # no JSON body (cancel, accept, confirm, imports): arbitrary JSON is not input there
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(f"<id:{argument}>", "1").replace(f"<{argument}>", "10500001")
            routes.append((method, path, schemas[0]))
    return routes


def fingerprint() -> str:
    """Every row of every table: the same before and after means nothing was written."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
        digest.update(repr((table.name, rows)).encode())
    return digest.hexdigest()


def accepted_by_schema(schema, body) -> bool:
    instance = schema() if isinstance(schema, type) else schema
    if not isinstance(body, dict):
        return False
    try:
        return not instance.validate(body, partial=getattr(instance, "partial", False))
    except Exception:  # the schema's own validators may need data this body lacks: not accepted
        return False


@pytest.mark.parametrize("role", ["admin", "op_a", "user_t1", None], ids=["admin", "op_a", "user_t1", "anonymous"])
def test_arbitrary_json_to_every_write_route_is_refused_and_writes_nothing(app, world, role):
    routes = write_routes(app)
    assert len(routes) >= 15, routes
    client = app.test_client()
    headers = {**world.headers(role), "Content-Type": "application/json"}

    before = fingerprint()

    @settings(max_examples=150, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(route=st.sampled_from(routes), body=json_values | st.integers(5, 2000).map(lambda d: RawJson(deep_json(d))))
    def post(route, body):
        method, path, schema = route
        assume(not accepted_by_schema(schema, body))
        data = body.text if isinstance(body, RawJson) else json.dumps(body)
        response = client.open(path, method=method, data=data, headers=headers)
        assert 400 <= response.status_code < 500, (method, path, data[:200], response.status_code)
        assert response.is_json

    post()
    db.session.rollback()
    assert fingerprint() == before
