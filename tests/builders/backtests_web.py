"""Backtest page helpers: signed-in members of a plan, the backtest form as the page posts
it, and a run started through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cryptolens.extensions import db
from cryptolens.services.backtests.run import check_request
from cryptolens.services.backtests.store import create_run
from cryptolens.services.ops.background import wait_for_background
from tests.web.accounts_helpers import Person, make_user, post_form, sign_in

PUBLIC_URL = "https://lens.example.org"


@dataclass(frozen=True)
class Member:
    person: Person
    client: FlaskClient

    def post(self, path: str, data: dict[str, str] | None = None) -> TestResponse:
        return post_form(self.client, path, data, form_path="/account/")


def member(app: Flask, email: str, plan: str | None = "premium") -> Member:
    person = make_user(app, email, plan=plan)
    client = app.test_client()
    assert sign_in(client, person).status_code == 302
    return Member(person, client)


def run_form(since: str = "2017-07-02", until: str = "2017-08-15", **fields: str) -> dict[str, str]:
    """The form as the page posts it: a month of BTC/USDT with the default fields."""
    return {"symbol": "BTC/USDT", "since": since, "until": until, **fields}


def start_run(who: Member, **fields: str) -> int:
    """Post the form, wait for the run's thread; the run's id."""
    answer = who.post("/backtests", run_form(**fields))
    assert answer.status_code == 302, answer.text
    wait_for_background()
    return int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def queued_run(app: Flask, user_id: int) -> int:
    """A run of BTC/USDT stored as queued (no worker picks it up); its id."""
    request = check_request(
        symbol="BTC/USDT",
        since=datetime(2017, 7, 2, tzinfo=UTC),
        until=datetime(2017, 7, 20, tzinfo=UTC),
        params={},
    )
    with app.app_context():
        run_id = create_run(db.session, user_id=user_id, request=request).id
        db.session.commit()
    return run_id
