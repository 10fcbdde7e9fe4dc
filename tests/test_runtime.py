from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from cryptolens.app import create_app
from cryptolens.extensions import db
from cryptolens.jobs import context
from cryptolens.runtime import app_runtime, app_settings, build
from cryptolens.services.accounts import policy
from tests.builders.settings import make_settings


def test_build_gives_the_settings_engine_sessions_and_no_redis_without_a_url(
    tmp_path: Path,
) -> None:
    settings = make_settings(database_url=f"sqlite:///{tmp_path}/r.sqlite", instance_dir=tmp_path)
    runtime = build(settings)
    try:
        assert runtime.settings is settings
        assert str(runtime.engine.url) == f"sqlite:///{tmp_path}/r.sqlite"
        assert runtime.redis is None
        with runtime.sessions() as session:
            assert session.get_bind() is runtime.engine
            # The SQLite pragmas every entry point relies on are on the builder's engine.
            assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        runtime.engine.dispose()


def test_the_web_app_queries_through_the_engine_of_its_runtime(tmp_path: Path) -> None:
    app = create_app(make_settings(instance_dir=tmp_path))
    with app.app_context():
        assert db.engine is app_runtime(app).engine
        assert app_settings(app) is app_runtime(app).settings
        db.engine.dispose()


def test_an_in_memory_database_is_one_database_for_every_session() -> None:
    runtime = build(make_settings(database_url="sqlite://"))
    with runtime.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with runtime.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    runtime.engine.dispose()


def test_a_job_builds_its_runtime_like_a_request_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/jobs.sqlite"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/8")
    job = context.job_runtime()
    app = create_app(context.job_settings())
    try:
        web = app_runtime(app)
        assert job is context.job_runtime()  # one per database per process
        assert str(job.engine.url) == str(web.engine.url)
        assert job.engine.pool.__class__ is web.engine.pool.__class__
        assert job.redis is not None
        assert web.redis is not None
        assert job.redis.connection_pool.connection_kwargs == (
            web.redis.connection_pool.connection_kwargs
        )
    finally:
        context._runtimes.clear()
        job.engine.dispose()
        app_runtime(app).engine.dispose()


def test_a_job_runtime_follows_every_setting_not_only_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/jobs.sqlite")
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    try:
        without_redis = context.job_runtime()
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/8")
        with_redis = context.job_runtime()
        assert without_redis.redis is None
        assert with_redis.redis is not None
    finally:
        for runtime in context._runtimes.values():
            runtime.engine.dispose()
        context._runtimes.clear()


def test_build_sets_the_plans_switch_from_the_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.sqlite"
    try:
        runtime = build(make_settings(database_url=url, instance_dir=tmp_path, plans_enabled=False))
        runtime.engine.dispose()
        assert not policy.plans_enabled()
    finally:
        build(make_settings(database_url=url, instance_dir=tmp_path)).engine.dispose()
    assert policy.plans_enabled()
