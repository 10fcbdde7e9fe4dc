"""``cryptolens api-keys``: the key printed once on its last line, and working over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import Result
from flask import Flask
from sqlalchemy import select

from cryptolens.cli import cli
from cryptolens.db.api_keys import ApiKey
from cryptolens.extensions import db
from tests.web.accounts_helpers import make_user

WHOAMI = "/api/health"  # public: a key that resolves is accepted, a refused one is answered


def _run(app: Flask, *args: str) -> Result:
    with app.app_context():
        return app.test_cli_runner().invoke(cli, args=["api-keys", *args])


def _stored(app: Flask) -> list[ApiKey]:
    with app.app_context():
        rows = list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))
        db.session.expunge_all()
        return rows


def test_create_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(
    app: Flask,
) -> None:
    make_user(app, "bot@example.com", plan="premium")
    result = _run(
        app,
        "create",
        "--email",
        "Bot@Example.com",
        "--scopes",
        "read:signals,write:scan",
        "--expires",
        "2099-01-01",
        "--allow",
        "10.0.0.0/8",
        "--allow",
        "2001:db8::/32",
        "--deny",
        "10.9.9.9",
        "--per-minute",
        "30",
    )
    assert result.exit_code == 0, result.output
    key = result.output.splitlines()[-1]
    assert key.startswith("cl_")
    assert len(key) == 59
    (row,) = _stored(app)
    assert row.scopes == ["read:signals", "write:scan"]
    assert row.allow == ["10.0.0.0/8", "2001:db8::/32"]
    assert row.deny == ["10.9.9.9/32"]
    assert row.limit_minute == 30
    assert row.expires_at == datetime(2099, 1, 1, tzinfo=UTC)
    assert key[16:] not in row.secret_hash
    answer = app.test_client().get(
        WHOAMI, headers={"X-API-Key": key}, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    )
    assert answer.status_code == 200


def test_create_refuses_bad_input_with_one_line_and_status_2(app: Flask) -> None:
    make_user(app, "bot@example.com", plan="premium")
    make_user(app, "free@example.com")
    cases = {
        ("--email", "nobody@example.com", "--scopes", "read:signals"): "No user with the email",
        ("--email", "bot@example.com", "--scopes", "read:all"): "Unknown scope 'read:all'",
        ("--email", "bot@example.com", "--scopes", "admin:symbols"): "for administrators",
        ("--email", "free@example.com", "--scopes", "read:signals"): "Premium plan",
        ("--email", "bot@example.com", "--scopes", "read:signals", "--expires", "soon"): (
            "--expires: 'soon' is not a date"
        ),
        ("--email", "bot@example.com", "--scopes", "read:signals", "--allow", "x/8"): (
            "allow: 'x/8' is not an IP address"
        ),
        ("--email", "bot@example.com", "--scopes", "read:signals", "--per-day", "50001"): (
            "per day may be at most 50000"
        ),
    }
    for args, message in cases.items():
        result = _run(app, "create", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert _stored(app) == []


def _create(app: Flask, email: str = "bot@example.com") -> tuple[int, str]:
    result = _run(app, "create", "--email", email, "--scopes", "read:signals")
    assert result.exit_code == 0, result.output
    key = result.output.splitlines()[-1]
    return int(result.output.split()[2]), key


def test_list_shows_keys_without_secrets_and_filters_by_owner(app: Flask) -> None:
    make_user(app, "bot@example.com", plan="premium")
    make_user(app, "admin@example.com", admin=True)
    first, key = _create(app)
    second, _ = _create(app, "admin@example.com")
    everyone = _run(app, "list")
    assert everyone.exit_code == 0
    lines = everyone.output.splitlines()
    assert [int(line.split("\t")[0]) for line in lines] == [second, first]
    assert key[:15] in everyone.output
    assert key[16:] not in everyone.output
    assert "bot@example.com\tAPI key\tactive\tread:signals" in everyone.output
    mine = _run(app, "list", "--email", "bot@example.com")
    assert len(mine.output.splitlines()) == 1
    assert _run(app, "list", "--email", "ghost@example.com").exit_code == 2


def test_revoke_stops_the_key_at_once(app: Flask) -> None:
    make_user(app, "bot@example.com", plan="premium")
    key_id, key = _create(app)
    result = _run(app, "revoke", str(key_id))
    assert result.exit_code == 0
    assert "revoked" in result.output
    answer = app.test_client().get(WHOAMI, headers={"X-API-Key": key})
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "This API key has been revoked."
    missing = _run(app, "revoke", "99999")
    assert missing.exit_code == 2
    assert "No API key with id 99999" in missing.output
    assert _run(app, "revoke", "99999999999999999999").exit_code == 2


def test_rotate_prints_a_new_key_and_the_old_one_ends_with_no_grace(app: Flask) -> None:
    make_user(app, "bot@example.com", plan="premium")
    key_id, old = _create(app)
    result = _run(app, "rotate", str(key_id), "--grace-hours", "0")
    assert result.exit_code == 0, result.output
    new = result.output.splitlines()[-1]
    client = app.test_client()
    assert client.get(WHOAMI, headers={"X-API-Key": new}).status_code == 200
    refused = client.get(WHOAMI, headers={"X-API-Key": old})
    assert refused.status_code == 403
    assert "rotated" in refused.get_json()["error"]
    again = _run(app, "rotate", str(key_id))
    assert again.exit_code == 2
    assert "only an active key can be rotated" in again.output
