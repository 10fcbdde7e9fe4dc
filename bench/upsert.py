"""Bulk upsert throughput: N seeded synthetic 1m candles into SQLite (and PostgreSQL / MariaDB
when their URLs are given).

    python bench/upsert.py [--candles 1000000] [--repeat 3]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--mariadb mysql+pymysql://root@127.0.0.1:3306/test]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from _common import header, median_seconds
from cryptolens.config import Settings
from cryptolens.db import migrate
from cryptolens.db.base import Base
from cryptolens.db.candles import upsert_candles
from cryptolens.db.engine import create_engine_for
from cryptolens.db.models import Candle
from cryptolens.db.symbols import ensure_symbol
from cryptolens.market.synthetic import synthetic_candles

GOAL_PER_SECOND = 200_000


def prepare(url: str) -> tuple[Engine, int]:
    engine = create_engine_for(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate.upgrade(engine)
    with Session(engine) as session:
        symbol_id = ensure_symbol(session, exchange="bench", symbol="BTC/USDT").id
        session.commit()
    return engine, symbol_id


def measure(label: str, url: str, n: int, repeat: int) -> None:
    engine, symbol_id = prepare(url)
    candles = synthetic_candles(n, seed=42)

    def clear() -> None:
        with engine.begin() as connection:
            connection.execute(delete(Candle))

    def insert() -> None:
        with engine.begin() as connection:
            upsert_candles(connection, symbol_id=symbol_id, timeframe="1m", candles=candles)

    fresh, fresh_runs = median_seconds(insert, repeat=repeat, setup=clear)
    # Second pass over stored rows: every row conflicts and is updated (the revision path).
    revise, _ = median_seconds(insert, repeat=repeat)
    print(
        f"{label:<11} insert {n:>9,} candles: median {fresh:6.2f} s = {n / fresh:>10,.0f} /s"
        f"   (runs: {', '.join(f'{t:.2f}' for t in fresh_runs)})"
    )
    print(f"{label:<11} upsert {n:>9,} existing: median {revise:6.2f} s = {n / revise:>10,.0f} /s")
    if label == "SQLite":
        verdict = "meets" if n / fresh >= GOAL_PER_SECOND else "MISSES"
        print(f"{'':<11} goal >= {GOAL_PER_SECOND:,}/s on SQLite: {verdict}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres")
    parser.add_argument("--mariadb")
    args = parser.parse_args()
    header("bench/upsert.py — bulk candle upsert")
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite'}", args.candles, args.repeat)
    if args.postgres:
        measure("PostgreSQL", args.postgres, args.candles, args.repeat)
    if args.mariadb:
        measure("MariaDB", args.mariadb, args.candles, args.repeat)


if __name__ == "__main__":
    main()
