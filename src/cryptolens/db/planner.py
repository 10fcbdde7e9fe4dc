"""Join-order hints for the newest-first lists of zones and signals.

Those lists join a big table (patterns, signals) to the small ``symbols`` table, filter on
``symbols.exchange`` and order by the big table's newest-first index, stopping after one
page. SQLite and MariaDB, seeing an index on ``symbols.exchange``, start from the twenty or so
symbols instead, collect every row of each and sort them all (18 ms and 45 ms at 100,000
zones, against 0.1 ms and 0.5 ms walking the time index). PostgreSQL plans it well.

- ``unindexed(column)`` is the column to SQLite's planner as ``+column``, which no index
  serves, so the join is driven from the big table; the column itself elsewhere.
- ``big_table_first(query)`` adds MariaDB's ``STRAIGHT_JOIN``: the tables are joined in the
  order of the FROM clause.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import HasPrefixes

Q = TypeVar("Q", bound=HasPrefixes)


class unindexed(FunctionElement[Any]):
    """A column the SQLite planner may not use an index for (see the module's note)."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def big_table_first(query: Q) -> Q:
    """``query`` joining its tables in FROM order on MariaDB/MySQL (others plan it well)."""
    return query.prefix_with("STRAIGHT_JOIN", dialect="mysql").prefix_with(
        "STRAIGHT_JOIN", dialect="mariadb"
    )
