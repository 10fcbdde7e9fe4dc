from __future__ import annotations

from pathlib import Path

import pytest

from cryptolens import create_app
from cryptolens.runtime import app_settings
from cryptolens.web.access import public
from tests.builders.settings import make_settings


def test_factory_uses_the_settings_it_is_given(tmp_path: Path) -> None:
    settings = make_settings(database_url=f"sqlite:///{tmp_path}/a.sqlite", instance_dir=tmp_path)
    app = create_app(settings)
    assert app.config["TESTING"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/a.sqlite"
    assert app_settings(app) is settings
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_factory_without_settings_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CRYPTOLENS_ENV", raising=False)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path / "inst"))
    app = create_app()
    assert app.config["TESTING"] is False
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst'}/cryptolens.sqlite"
    )
    assert (tmp_path / "inst").is_dir()


def test_production_app_sets_secure_cookies(tmp_path: Path) -> None:
    settings = make_settings(
        environment="production",
        secret_key="Zq8-pL3vN0xW_r7TbY2mKc9FhJ4sDe6uGa1",
        public_url="https://lens.example.com",
        instance_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/p.sqlite",
    )
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_DURATION"].days == 7
    assert app.config["TESTING"] is False
    assert app.config["TRUSTED_HOSTS"] is None  # production: whatever TRUSTED_HOSTS says


def test_trusted_hosts_setting_becomes_flasks_trusted_hosts(tmp_path: Path) -> None:
    settings = make_settings(
        instance_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/h.sqlite",
        trusted_hosts="app.example, .app.example",
    )
    assert create_app(settings).config["TRUSTED_HOSTS"] == ["app.example", ".app.example"]


def test_each_area_has_its_blueprint(tmp_path: Path) -> None:
    app = create_app(make_settings(instance_dir=tmp_path))
    assert {"api", "dashboard"} <= set(app.blueprints)


def test_trusted_proxies_make_the_client_address_the_forwarded_one(tmp_path: Path) -> None:
    app = create_app(make_settings(instance_dir=tmp_path, trusted_proxies=1))

    @app.get("/whoami")
    @public
    def whoami() -> str:
        from flask import request

        return request.remote_addr or ""

    answer = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert answer.text == "203.0.113.9"
    untrusted = create_app(make_settings(instance_dir=tmp_path, trusted_proxies=0))
    untrusted.add_url_rule("/whoami", view_func=whoami)
    answer = untrusted.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert answer.text != "203.0.113.9"
