"""Insert-or-update and insert-or-ignore for every supported dialect, as one statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import mysql, postgresql, sqlite


def upsert_rows(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows``; where ``key`` already exists, overwrite the ``update`` columns
    (nothing, if ``update`` is empty)."""
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect in ("mysql", "mariadb"):
        my = mysql.insert(table)
        # MySQL has no DO NOTHING: re-assigning a key column to itself is the idiom.
        changes = {c: my.inserted[c] for c in update} or {key[0]: table.c[key[0]]}
        connection.execute(my.on_duplicate_key_update(changes), rows)
        return
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table)
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in update}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    connection.execute(stmt, rows)
