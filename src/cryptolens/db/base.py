"""Declarative base with a naming convention, so migrations name constraints identically
on SQLite, MariaDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, MetaData, Numeric, String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from cryptolens.domain.trades import canonical

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns aware datetimes, even on SQLite and MariaDB,
    which keep no time zone."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[datetime]:
        # MariaDB/MySQL DATETIME drops microseconds unless asked for them.
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; CryptoLens stores only aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: Digits a stored decimal keeps: Numeric(28, 10), so 18 before the point and 10 after.
DECIMAL_PRECISION = 28
DECIMAL_SCALE = 10
_QUANTUM = Decimal(1).scaleb(-DECIMAL_SCALE)
_LIMIT = Decimal(10) ** (DECIMAL_PRECISION - DECIMAL_SCALE)


def canonical_decimal(value: Decimal) -> Decimal:
    """The value as every dialect returns it: no exponent, no trailing zeros (``1.50`` → ``1.5``,
    ``1E+2`` → ``100``)."""
    return canonical(value)


class ExactDecimal(TypeDecorator[Decimal]):
    """Money and quantities: ``Numeric(28, 10)`` on PostgreSQL and MariaDB; on SQLite, which has
    no exact decimal type, the canonical decimal text (so a round trip is exact everywhere;
    SQL arithmetic there sees a float — see ``as_number``). Python side: ``decimal.Decimal``."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(DECIMAL_PRECISION, DECIMAL_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"ExactDecimal takes a finite decimal.Decimal, not {value!r}")
        stored = value.quantize(_QUANTUM) if abs(value) < _LIMIT else None
        if stored is None or stored != value:
            raise ValueError(f"{value} does not fit Numeric({DECIMAL_PRECISION}, {DECIMAL_SCALE})")
        if dialect.name == "sqlite":
            return format(canonical_decimal(stored), "f")
        return stored

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return canonical_decimal(Decimal(str(value)) if not isinstance(value, Decimal) else value)


class as_number(FunctionElement[Any]):
    """An ``ExactDecimal`` column as a number in SQL: the column itself on PostgreSQL and
    MariaDB, ``CAST(… AS REAL)`` on SQLite (whose stored text would compare as text)."""

    inherit_cache = True
    type = Numeric()


@compiles(as_number)
def _as_number_default(element: as_number, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(as_number, "sqlite")
def _as_number_sqlite(element: as_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS REAL)"
