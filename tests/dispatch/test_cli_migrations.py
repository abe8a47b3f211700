"""Command line (create-user, seed-demo) and the migrations on SQLite and PostgreSQL."""

import uuid

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from dispatch import create_app
from dispatch.accounts.models import User
from dispatch.extensions import db
from dispatch.models import Kecamatan, LessonSession, Order, School, Teacher, Village
from tests.conftest import make_config, postgres_url_or_skip, with_search_path


def test_create_user_prints_its_id(app, runner, world):
    result = runner.invoke(
        args=["create-user", "--role", "school_operator", "--username", "op-cli", "--password", "pw-123456",
              "--school", world.school_a.npsn]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.get(User, int(result.output.strip()))
    assert (user.username, user.school_id) == ("op-cli", world.school_a.npsn)


def test_create_user_refuses_bad_binding(app, runner, world):
    result = runner.invoke(args=["create-user", "--role", "teacher", "--username", "t-cli", "--password", "pw-123456"])
    assert result.exit_code != 0
    assert "teacher_id" in result.output
    assert db.session.scalar(db.select(User).where(User.username == "t-cli")) is None


def table_counts():
    return {model.__name__: db.session.scalar(db.select(sa.func.count()).select_from(model))
            for model in (Kecamatan, Village, School, Teacher, Order, LessonSession, User)}  # fmt: skip


def test_seed_demo_loads_bungo_and_twice_changes_nothing(app, runner):
    first = runner.invoke(args=["seed-demo", "--teachers", "40", "--periods", "400"])
    assert first.exit_code == 0, first.output
    assert "admin / bungo-admin / district_admin" in first.output
    counts = table_counts()
    assert counts["Kecamatan"] == 17 and counts["Village"] == 153
    assert counts["School"] == 295  # good or border coordinates, SD to SMK
    assert counts["Teacher"] == 40
    # Names as the schools write them: the source dropped the slash of "101/II" and kept it in a few.
    assert db.session.get(School, "10500651").name == "SD NEGERI 101/II MUARA BUNGO"
    assert db.session.get(School, "10500557").name == "SD NEGERI 132/II BELUKAR PANJANG"
    assert db.session.scalar(db.select(sa.func.count()).where(School.name.regexp_match(r"[0-9]II "))) == 0
    periods = db.session.scalar(db.select(sa.func.sum(LessonSession.periods)))
    assert 400 <= periods < 420
    # Every demo teacher lives near a real village of the district.
    assert db.session.scalar(db.select(sa.func.count()).where(Teacher.kecamatan_code.is_(None))) == 0
    second = runner.invoke(args=["seed-demo", "--teachers", "40", "--periods", "400"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert table_counts() == counts
    login = app.test_client().post("/api/v1/auth/token", json={"username": "admin", "password": "bungo-admin"})
    assert login.status_code == 200


def check_migrations(url: str) -> None:
    """Upgrade an empty database to head, compare with the models, then downgrade to nothing."""
    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_migrations_on_sqlite(tmp_path):
    check_migrations(f"sqlite:///{tmp_path / 'migrated.db'}")


def test_migrations_on_postgresql():
    url = postgres_url_or_skip()
    schema = f"guru_migrate_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    try:
        check_migrations(with_search_path(url, schema))
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        engine.dispose()
