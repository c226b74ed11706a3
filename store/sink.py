"""Writing batches of rows to the database: COPY into a staging table, then one INSERT ... SELECT with the
table's conflict rule (idempotent). Where COPY is unavailable, a multi-row INSERT with the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql

from store.tables import EVENTS, TABLES, Row, TableSpec, latest_event_versions

INSERT_CHUNK_ROWS = 1000  # parameters per statement stay far below PostgreSQL's 65535


def copy_supported(conn: psycopg.Connection) -> bool:
    """False on engines whose COPY FROM STDIN is broken (the WASM TimescaleDB build used in tests)."""
    row = conn.execute("SELECT version()").fetchone()
    version = str(row[0] if isinstance(row, tuple) else next(iter(row.values()))) if row else ""
    return "emscripten" not in version.lower() and "emcc" not in version.lower()


def _stage_name(spec: TableSpec) -> sql.Identifier:
    return sql.Identifier(f"vigil_stage_{spec.name}")


def _insert_select(spec: TableSpec, source: sql.Composable) -> sql.Composed:
    columns = sql.SQL(", ").join(map(sql.Identifier, spec.column_names))
    if spec.select_exprs:
        select = sql.SQL(", ").join(sql.SQL(e) for e in spec.select_exprs)  # type: ignore[arg-type]
    else:
        select = sql.SQL(", ").join(sql.SQL("s.") + sql.Identifier(c) for c in spec.column_names)
    return sql.SQL("INSERT INTO {table} ({columns}) SELECT {select} FROM {source} {join} {conflict}").format(
        table=sql.Identifier(spec.name), columns=columns, select=select, source=source,
        join=sql.SQL(spec.join), conflict=sql.SQL(spec.on_conflict))  # type: ignore[arg-type]


class BatchSink:
    """Writes batches through one connection (not thread-safe: one sink per writer thread)."""

    def __init__(self, conn: psycopg.Connection, use_copy: bool | None = None) -> None:
        self.conn = conn
        self.use_copy = copy_supported(conn) if use_copy is None else use_copy
        self._staged: set[str] = set()

    def write(self, table: str, rows: Sequence[Row], *, maybe_duplicates: bool = False) -> int:
        """Write one batch in one transaction; return the number of rows handed to the database.

        Append-only tables are first COPY'd straight in (the fast path); when a row is already there
        (a rule re-sent it, or ``maybe_duplicates`` for a spool replay) the batch goes through the staging
        table and the conflict rule instead, so each row lands once.
        """
        spec = TABLES[table]
        if spec is EVENTS:
            rows = latest_event_versions(rows)
        if not rows:
            return 0
        if self.use_copy and spec.select_exprs is None and not maybe_duplicates:
            try:
                with self.conn.transaction():
                    self._copy_direct(spec, rows)
                return len(rows)
            except psycopg.errors.UniqueViolation:
                pass
        with self.conn.transaction():
            if self.use_copy:
                self._copy(spec, rows)
            else:
                self._insert(spec, rows)
        return len(rows)

    def _copy_direct(self, spec: TableSpec, rows: Sequence[Row]) -> None:
        statement = sql.SQL("COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)").format(
            table=sql.Identifier(spec.name), columns=sql.SQL(", ").join(map(sql.Identifier, spec.column_names)))
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            copy.set_types(spec.types)
            for row in rows:
                copy.write_row(row)

    def _copy(self, spec: TableSpec, rows: Sequence[Row]) -> None:
        stage = _stage_name(spec)
        if spec.name not in self._staged:
            columns = sql.SQL(", ").join(sql.Identifier(name) + sql.SQL(" " + pg_type)  # type: ignore[operator]
                                         for name, pg_type in spec.columns)
            self.conn.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS")
                              .format(stage=stage, columns=columns))
            self._staged.add(spec.name)
        with self.conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {stage} FROM STDIN (FORMAT BINARY)").format(stage=stage)) as copy:
                copy.set_types(spec.types)
                for row in rows:
                    copy.write_row(row)
            cur.execute(_insert_select(spec, stage + sql.SQL(" AS s")))

    def _insert(self, spec: TableSpec, rows: Sequence[Row]) -> None:
        one = sql.SQL("({})").format(sql.SQL(", ").join(sql.SQL("%s::" + t) for t in spec.types))  # type: ignore[arg-type]
        names = sql.SQL(", ").join(map(sql.Identifier, spec.column_names))
        with self.conn.cursor() as cur:
            for start in range(0, len(rows), INSERT_CHUNK_ROWS):
                chunk = rows[start:start + INSERT_CHUNK_ROWS]
                values = sql.SQL(", ").join([one] * len(chunk))
                source = sql.SQL("(VALUES {values}) AS s ({names})").format(values=values, names=names)
                params = [value for row in chunk for value in row]
                cur.execute(_insert_select(spec, source), params)
