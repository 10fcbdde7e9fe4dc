"""Sign-in, second-factor and reset attempts, one row each, shared by every worker.

Each write runs in its own short transaction on the engine, not the request's session, so
an attempt is committed (visible to every other worker) before it is counted.
"""

from __future__ import annotations

import logging

from sqlalchemy import BigInteger, Engine, Index, Integer, String, delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from cryptolens.db.base import Base

log = logging.getLogger(__name__)

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class AuthAttempt(Base):
    __tablename__ = "auth_attempts"
    __table_args__ = (Index("ix_auth_attempts_bucket_at_ms", "bucket", "at_ms"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    # A digest of the bucket's parts (email, client address): no address is stored in clear.
    bucket: Mapped[str] = mapped_column(String(64))
    at_ms: Mapped[int] = mapped_column(BigInteger)


def record_attempt(
    engine: Engine, *, bucket: str, now_ms: int, horizon_ms: int
) -> tuple[str, list[int]]:
    """Commit one attempt, then return its token and every attempt time within the horizon.

    Insert-then-count: the k-th attempt to commit counts at least k rows, so parallel
    attempts can never all see a count under the limit. It fails closed: in a burst an
    attempt may also count later ones and be refused although it came early.
    """
    with engine.begin() as connection:
        inserted = connection.execute(insert(AuthAttempt).values(bucket=bucket, at_ms=now_ms))
        key = inserted.inserted_primary_key
    if key is None:  # SQLite, PostgreSQL and MariaDB all report it
        raise RuntimeError("the database did not report the new attempt's id")
    attempt_id = key[0]
    cutoff = now_ms - horizon_ms
    with engine.connect() as connection:
        times = connection.scalars(
            select(AuthAttempt.at_ms).where(
                AuthAttempt.bucket == bucket, AuthAttempt.at_ms > cutoff
            )
        ).all()
    _purge(engine, bucket=bucket, cutoff_ms=cutoff)
    return str(attempt_id), list(times)


def _purge(engine: Engine, *, bucket: str, cutoff_ms: int) -> None:
    try:
        with engine.begin() as connection:
            connection.execute(
                delete(AuthAttempt).where(
                    AuthAttempt.bucket == bucket, AuthAttempt.at_ms <= cutoff_ms
                )
            )
    except DBAPIError:  # housekeeping only: a lock conflict leaves the rows for the next one
        log.warning("could not purge old attempts", exc_info=True)


def discard_attempt(engine: Engine, *, bucket: str, token: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(AuthAttempt).where(AuthAttempt.bucket == bucket, AuthAttempt.id == int(token))
        )


def clear_attempts(engine: Engine, *, bucket: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(AuthAttempt).where(AuthAttempt.bucket == bucket))
