"""Webhook handling time, in-process through the Flask test client on a temporary SQLite
database (or ``--database`` URL): a NOWPayments IPN that credits a plan (event row, payment,
subscription, receipt queued), the same IPN replayed, and one with a bad signature.

    python bench/webhooks.py [--repeat 200] [--database postgresql+psycopg://…]

Both providers give a webhook seconds to answer (and retry on failure); the goal here is a
median far below that: ``GOAL_MEDIAN_MS``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import tempfile
from itertools import count
from pathlib import Path
from typing import Any

from _common import header, median_seconds
from cryptolens import create_app
from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.engine import create_engine_for
from cryptolens.extensions import db
from cryptolens.services.accounts.accounts import register
from cryptolens.services.accounts.passwords import Passwords

GOAL_MEDIAN_MS = 50.0
SECRET = "bench-ipn-secret-0123456789abcdef"
URL = "/payments/webhooks/nowpayments"


def ipn(user_id: int, payment_id: int) -> tuple[bytes, dict[str, str]]:
    payload: dict[str, Any] = {
        "payment_id": payment_id,
        "payment_status": "finished",
        "price_amount": 19,
        "price_currency": "usd",
        "pay_amount": 0.0003,
        "actually_paid": 0.0003,
        "pay_currency": "btc",
        "order_id": f"cl:{user_id}:pro:monthly:bench",
        "updated_at": int(utcnow().timestamp() * 1000),
    }
    signed = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    signature = hmac.new(SECRET.encode(), signed, hashlib.sha512).hexdigest()
    return json.dumps(payload).encode(), {"x-nowpayments-sig": signature}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # no SMTP here: every receipt would warn
    folder = Path(tempfile.mkdtemp())
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="testing",
        secret_key="bench-secret-key-that-is-long-enough-0123456789",
        database_url=args.database or f"sqlite:///{folder / 'bench.sqlite'}",
        log_level="ERROR",
        nowpayments_api_key="k",
        nowpayments_ipn_secret=SECRET,
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
    )
    engine = create_engine_for(settings)
    migrate.upgrade(engine)
    app = create_app(settings)
    with app.app_context():
        made = register(
            db.session(),
            email=f"bench-{utcnow().timestamp()}@example.com",
            password="correct horse battery staple",
            passwords=Passwords(time_cost=1, memory_kib=1024),
            now=utcnow(),
        )
        db.session.commit()
    assert made.new_user_id is not None
    user_id = made.new_user_id
    client = app.test_client()
    ids = count(int(utcnow().timestamp() * 1000))
    header(f"webhooks: {settings.database.get_backend_name()}, {args.repeat} runs each")

    def credit() -> None:
        body, headers = ipn(user_id, next(ids))
        assert client.post(URL, data=body, headers=headers).json["outcome"] == "credited"

    replay_body, replay_headers = ipn(user_id, next(ids))
    client.post(URL, data=replay_body, headers=replay_headers)

    def replay() -> None:
        answer = client.post(URL, data=replay_body, headers=replay_headers)
        assert answer.json["outcome"] == "duplicate"

    def forged() -> None:
        headers = {"x-nowpayments-sig": "0" * 128}
        assert client.post(URL, data=replay_body, headers=headers).status_code == 401

    for name, run in (("credit", credit), ("replay", replay), ("bad signature", forged)):
        median, _ = median_seconds(run, repeat=args.repeat)
        print(f"{name:>14}: median {median * 1000:6.2f} ms (goal < {GOAL_MEDIAN_MS:.0f} ms)")


if __name__ == "__main__":
    main()
