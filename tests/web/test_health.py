from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from cryptolens import create_app
from cryptolens.version import __version__
from tests.builders.settings import make_settings


def test_health_reports_a_reachable_database(client: FlaskClient) -> None:
    answer = client.get("/api/health")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["success"] is True
    assert body["data"]["status"] == "ok"
    assert body["data"]["components"]["database"]["status"] == "ok"
    assert "redis" not in body["data"]["components"]
    assert body["data"]["version"] == __version__
    assert body["data"]["timestamp"].endswith("Z")


def _unreachable_sqlite_url(tmp_path: Path) -> str:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database folder should be")
    return f"sqlite:///{blocker / 'x.sqlite'}"


def test_liveness_answers_without_touching_dependencies(tmp_path: Path) -> None:
    app = create_app(
        make_settings(database_url=_unreachable_sqlite_url(tmp_path), instance_dir=tmp_path)
    )
    answer = app.test_client().get("/api/health/live")
    assert answer.status_code == 200
    assert answer.get_json()["data"] == {"status": "alive"}


def test_readiness_requires_the_schema_at_head(client: FlaskClient) -> None:
    answer = client.get("/api/health/ready")
    assert answer.status_code == 200
    assert answer.get_json()["data"]["components"]["database"]["detail"].startswith("schema at")


def test_readiness_fails_on_an_unmigrated_database(tmp_path: Path) -> None:
    app = create_app(make_settings(instance_dir=tmp_path))
    answer = app.test_client().get("/api/health/ready")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["success"] is False
    assert "schema at nothing" in body["data"]["components"]["database"]["detail"]


def test_unreachable_database_gives_503_with_a_json_body(tmp_path: Path) -> None:
    app = create_app(
        make_settings(database_url=_unreachable_sqlite_url(tmp_path), instance_dir=tmp_path)
    )
    answer = app.test_client().get("/api/health")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["success"] is False
    assert body["error"] == "degraded: database"
    assert body["data"]["status"] == "degraded"
    assert body["data"]["components"]["database"]["status"] == "down"
    assert "Traceback" not in answer.text


def test_unreachable_postgres_server_gives_503(tmp_path: Path) -> None:
    # Port 1 on loopback refuses at once: no outbound network, no hang.
    app = create_app(
        make_settings(database_url="postgresql+psycopg://u@127.0.0.1:1/none", instance_dir=tmp_path)
    )
    answer = app.test_client().get("/api/health")
    assert answer.status_code == 503
    assert answer.get_json()["data"]["components"]["database"]["status"] == "down"


def test_unreachable_redis_degrades_health(tmp_path: Path) -> None:
    app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0", instance_dir=tmp_path))
    answer = app.test_client().get("/api/health")
    assert answer.status_code == 503
    components = answer.get_json()["data"]["components"]
    assert components["redis"]["status"] == "down"
    assert components["database"]["status"] == "ok"


def test_health_includes_a_configured_redis(redis_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(redis_url=redis_url, instance_dir=tmp_path))
    answer = app.test_client().get("/api/health")
    assert answer.status_code == 200
    assert answer.get_json()["data"]["components"]["redis"]["status"] == "ok"
