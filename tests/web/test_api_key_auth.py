"""Real API keys through HTTP: the principal they resolve to, the 401/403 envelopes naming
why a key is refused, IP rules from the client address, usage counted without a write per
request, CSRF left to cookies, and the key kept out of every log line."""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from cryptolens import create_app
from cryptolens.config import Settings
from cryptolens.db.accounts import Subscription
from cryptolens.db.api_keys import ApiKey, ApiKeyUsage
from cryptolens.extensions import db
from cryptolens.services.accounts.api_keys import revoke_key
from cryptolens.services.accounts.api_usage import LAST_USED_KEY, REQUESTS_KEY, flush_usage
from cryptolens.services.accounts.subscriptions import grant_subscription
from cryptolens.web.access import public
from cryptolens.web.api_key_auth import usage_counter
from cryptolens.web.envelope import api_success
from cryptolens.web.principal import current_principal
from cryptolens.web.serving import QuietRequestHandler
from tests.builders.api_keys import make_key
from tests.web.accounts_helpers import Person, csrf_token, make_user, sign_in

WHOAMI = "/api/test/whoami"


def _whoami() -> object:
    p = current_principal()
    return api_success(
        {
            "user_id": p.user_id,
            "method": p.method.value,
            "plan": p.plan.value,
            "scopes": sorted(p.scopes),
            "api_key_id": p.api_key_id,
            "rate_limits": list(p.rate_limits),
        }
    )


@pytest.fixture
def api_app(app: Flask) -> Flask:
    app.add_url_rule(WHOAMI, "test_whoami", public(_whoami))
    app.add_url_rule("/api/test/write", "test_write", _whoami, methods=["POST"])
    return app


def _key(app: Flask, person: Person, **options: object) -> tuple[int, str]:
    options.setdefault("scopes", ["read:signals", "write:scan"])
    return make_key(app, person.id, **options)  # type: ignore[arg-type]


@pytest.fixture
def owner(api_app: Flask) -> Person:
    return make_user(api_app, "bot-owner@example.com", plan="premium")


def test_a_key_in_the_header_resolves_to_its_owner_scopes_and_limits(
    api_app: Flask, client: FlaskClient, owner: Person
) -> None:
    key_id, plaintext = _key(api_app, owner)
    answer = client.get(WHOAMI, headers={"X-API-Key": plaintext})
    assert answer.status_code == 200
    assert answer.get_json()["data"] == {
        "user_id": owner.id,
        "method": "api_key",
        "plan": "premium",
        "scopes": ["read:signals", "write:scan"],
        "api_key_id": key_id,
        "rate_limits": [200, 5000, 50000],
    }


def test_a_key_in_the_query_works_too(api_app: Flask, client: FlaskClient, owner: Person) -> None:
    key_id, plaintext = _key(api_app, owner)
    answer = client.get(WHOAMI, query_string={"api_key": plaintext})
    assert answer.get_json()["data"]["api_key_id"] == key_id


def test_an_unknown_key_is_a_401_envelope(
    api_app: Flask, client: FlaskClient, owner: Person
) -> None:
    _, plaintext = _key(api_app, owner)
    answer = client.get(WHOAMI, headers={"X-API-Key": plaintext[:-2] + "xx"})
    assert answer.status_code == 401
    body = answer.get_json()
    assert body["success"] is False
    assert body["error"] == "The API key is not valid."


def test_a_revoked_key_is_a_403_envelope_naming_the_reason(
    api_app: Flask, client: FlaskClient, owner: Person
) -> None:
    key_id, plaintext = _key(api_app, owner)
    with api_app.app_context():
        revoke_key(db.session(), key_id=key_id, user_id=owner.id, now=datetime.now(UTC))
        db.session.commit()
    answer = client.get(WHOAMI, headers={"X-API-Key": plaintext})
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "This API key has been revoked."


@pytest.mark.parametrize(
    ("ip", "status"),
    [("10.20.30.40", 200), ("10.66.0.1", 403), ("2001:db8::7", 200), ("203.0.113.1", 403)],
)
def test_the_client_address_is_checked_against_the_key_s_rules(
    api_app: Flask, client: FlaskClient, owner: Person, ip: str, status: int
) -> None:
    _, plaintext = _key(
        api_app, owner, allow=["10.0.0.0/8", "2001:db8::/32"], deny=["10.66.0.0/16"]
    )
    answer = client.get(WHOAMI, headers={"X-API-Key": plaintext}, environ_base={"REMOTE_ADDR": ip})
    assert answer.status_code == status
    if status == 403:
        assert ip in answer.get_json()["error"]


def test_a_key_stops_while_the_plan_has_lapsed_and_works_after_renewal(
    api_app: Flask, client: FlaskClient, owner: Person
) -> None:
    _, plaintext = _key(api_app, owner)
    past = datetime.now(UTC) - timedelta(days=4)  # beyond the three days of grace
    with api_app.app_context():
        db.session.execute(
            update(Subscription).where(Subscription.user_id == owner.id).values(expires_at=past)
        )
        db.session.commit()
    lapsed = client.get(WHOAMI, headers={"X-API-Key": plaintext})
    assert lapsed.status_code == 403
    assert lapsed.get_json()["error"] == "The Premium plan has lapsed — renew to use the API."
    with api_app.app_context():
        now = datetime.now(UTC)
        grant_subscription(
            db.session(),
            user_id=owner.id,
            plan="premium",
            started_at=now - timedelta(minutes=1),
            expires_at=now + timedelta(days=30),
        )
        db.session.commit()
    assert client.get(WHOAMI, headers={"X-API-Key": plaintext}).status_code == 200


def test_a_key_needs_no_csrf_token_but_a_cookie_write_still_does(
    api_app: Flask, client: FlaskClient, owner: Person
) -> None:
    _, plaintext = _key(api_app, owner)
    assert client.post("/api/test/write", headers={"X-API-Key": plaintext}).status_code == 200
    sign_in(client, owner)
    refused = client.post("/api/test/write")
    assert refused.status_code == 403
    assert "CSRF" in refused.get_json()["error"]
    token = csrf_token(client, "/account/")
    assert client.post("/api/test/write", headers={"X-CSRFToken": token}).status_code == 200


def test_keys_do_not_open_the_pages(api_app: Flask, client: FlaskClient, owner: Person) -> None:
    _, plaintext = _key(api_app, owner)
    assert client.get("/account/", headers={"X-API-Key": plaintext}).status_code == 302
    assert client.get("/account/", query_string={"api_key": plaintext}).status_code == 302


def _stored_requests(app: Flask) -> int:
    with Session(db.engine) as session:
        return sum(session.scalars(select(ApiKeyUsage.requests)))


def test_usage_is_counted_without_a_database_write_per_request(
    api_app: Flask, client: FlaskClient, owner: Person
) -> None:
    key_id, plaintext = _key(api_app, owner)
    headers = {"X-API-Key": plaintext}
    for n in range(5):
        client.get(WHOAMI, headers=headers, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
    with api_app.app_context():
        # The process wrote its counts once (on the first request), not once per request.
        assert _stored_requests(api_app) == 1
        with Session(db.engine) as session:
            assert flush_usage(session, usage_counter(api_app)) == 4
        assert _stored_requests(api_app) == 5
        key = db.session.get(ApiKey, key_id)
        assert key is not None
        assert key.last_used_ip == "10.0.0.4"


def test_the_key_is_redacted_from_the_request_log(
    api_app: Flask, client: FlaskClient, owner: Person, caplog: pytest.LogCaptureFixture
) -> None:
    _, plaintext = _key(api_app, owner)
    secret = plaintext[16:]
    logging.getLogger("cryptolens").propagate = True
    try:
        with caplog.at_level(logging.DEBUG, logger="cryptolens"):
            client.get(f"{WHOAMI}?api_key={plaintext}&x=1")
            logging.getLogger("cryptolens.somewhere").warning("pasted %s", plaintext)
    finally:
        logging.getLogger("cryptolens").propagate = False
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith(f"GET {WHOAMI} 200") for line in lines)
    assert any(line == f"pasted {plaintext[:16]}[redacted]" for line in lines)
    assert all(secret not in line for line in lines)


@pytest.fixture
def served(api_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, api_app, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_the_development_server_s_access_log_redacts_the_key(
    served: str, api_app: Flask, owner: Person, caplog: pytest.LogCaptureFixture
) -> None:
    _, plaintext = _key(api_app, owner)
    url = f"{served}{WHOAMI}?api_key={plaintext}"
    with (
        caplog.at_level(logging.INFO, logger="werkzeug"),
        urllib.request.urlopen(url) as answer,  # noqa: S310  (a local http URL)
    ):
        assert answer.status == 200
    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any(f"GET {WHOAMI}?api_key=[redacted] HTTP/1.1" in line for line in access)
    assert all(plaintext[16:] not in line for line in access)


def test_with_redis_every_process_counts_into_redis(
    api_app: Flask, owner: Person, settings: Settings, redis_url: str
) -> None:
    key_id, plaintext = _key(api_app, owner)
    shared = create_app(settings.model_copy(update={"redis_url": redis_url}))
    redis: Redis[bytes] = Redis.from_url(redis_url)
    redis.delete(REQUESTS_KEY, LAST_USED_KEY)
    try:
        for _ in range(2):
            answer = shared.test_client().get(
                "/api/health",
                headers={"X-API-Key": plaintext},
                environ_base={"REMOTE_ADDR": "10.1.2.3"},
            )
            assert answer.status_code == 200
        today = datetime.now(UTC).date().isoformat()
        assert redis.hget(REQUESTS_KEY, f"{key_id}:{today}") == b"2"
        assert (redis.hget(LAST_USED_KEY, str(key_id)) or b"").endswith(b"|10.1.2.3")
        with api_app.app_context():
            assert _stored_requests(api_app) == 0  # the web process wrote nothing
    finally:
        redis.delete(REQUESTS_KEY, LAST_USED_KEY)
        redis.close()
        with shared.app_context():
            db.engine.dispose()
