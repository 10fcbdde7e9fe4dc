"""Contract fuzzing: Schemathesis against the live API v1 document, with a key holding every
scope, on a seeded SQLite database served by werkzeug on 127.0.0.1.

    python scripts/fuzz_api.py [--max-examples 60] [--seed 1]

About 2,400 generated requests in all with the defaults (about two minutes).

Fails (exit 1) on any 5xx or any answer that breaks its documented schema. Rate limits are
switched off in this process only: the fuzzer's thousands of requests would otherwise meet
429s (documented answers) instead of the code under test; the limits have their own tests.
Scans and fetches go to a closed local port, never to the internet.

Backtests stay cheap without excluding POST /api/v1/backtests from the run: a run is queued
only for a watched symbol (S00/USDT to S19/USDT here, which the generator almost never
writes) with a stored base candle in the range, and this database stores 500 one-minute
candles per symbol (about 0.02 s to backtest, in a thread); the key's user may have at most
two runs queued or running, so more are refused (409) before any work. A fuzzed ``sweep``
meets the same gates, after its own checks (at most 1,000 combinations, or 20,000
walk-forward backtests, of these 500 candles).
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from cryptolens import create_app  # noqa: E402
from cryptolens.config import Settings  # noqa: E402
from cryptolens.db.engine import create_engine_for  # noqa: E402
from cryptolens.domain.api_scopes import Scope  # noqa: E402
from cryptolens.extensions import limiter  # noqa: E402
from cryptolens.services.accounts.accounts import create_admin, load_account  # noqa: E402
from cryptolens.services.accounts.api_keys import KeyOptions, create_key, key_pepper  # noqa: E402
from cryptolens.services.accounts.passwords import Passwords  # noqa: E402
from web import free_port, seed  # noqa: E402  (bench/web.py: the benchmark's seeded market)

SECRET = "fuzz-secret-key-that-is-long-enough-0123456789"  # noqa: S105  (a throwaway database)


def admin_key(settings: Settings) -> str:
    """A key of a new administrator holding every scope."""
    engine = create_engine_for(settings)
    now = datetime.now(UTC)
    with Session(engine) as session:
        passwords = Passwords(time_cost=1, memory_kib=1024)
        user_id = create_admin(
            session,
            email="fuzz-admin@example.com",
            password="a fuzzing password that is long enough",  # noqa: S106
            passwords=passwords,
            now=now,
        )
        owner = load_account(session, user_id=user_id, now=now)
        assert owner is not None
        options = KeyOptions(name="fuzz", scopes=[s.value for s in Scope])
        pepper = key_pepper(settings.secret_key)
        _, plaintext = create_key(session, owner=owner, options=options, pepper=pepper, now=now)
        session.commit()
    engine.dispose()
    return plaintext


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'fuzz.sqlite'}"
        seed(url, 40_000, 4_000)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            environment="testing",
            secret_key=SECRET,
            database_url=url,
            instance_dir=folder / "instance",
            redis_url=None,
            exchange_api_url="http://127.0.0.1:9",
            log_level="ERROR",
        )
        key = admin_key(settings)
        app = create_app(settings)
        limiter.enabled = False
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        port = free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started = time.perf_counter()
        try:
            result = subprocess.run(
                [
                    str(Path(sys.executable).with_name("schemathesis")),
                    "run",
                    f"http://127.0.0.1:{port}/api/v1/openapi.json",
                    "--header",
                    f"X-API-Key: {key}",
                    "--checks",
                    "not_a_server_error,response_schema_conformance",
                    "--max-examples",
                    str(args.max_examples),
                    "--seed",
                    str(args.seed),
                    "--request-timeout",
                    "20",
                ],
                check=False,
            )
        finally:
            server.shutdown()
        print(f"schemathesis finished in {time.perf_counter() - started:.0f} s")
        return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
