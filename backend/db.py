"""Engine construction, sessions and schema migrations for SQLite and PostgreSQL."""

import functools
import json
import logging
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pydantic_core
from alembic import command
from alembic.config import Config
from psycopg.rows import namedtuple_row
from sqlalchemy import Row, Table, TextClause, event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from backend.settings import Settings

log = logging.getLogger("localsync.db")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_ONLY = "localsync_read_only"
MIGRATION_LOCK_KEY = 0x6C6F63616C73796E
"""PostgreSQL advisory lock key ("localsyn" in ASCII) that serialises schema upgrades."""


def make_engine(settings: Settings) -> Engine:
    """Create an engine tuned for the configured database.

    SQLite runs in WAL mode and starts every transaction with ``BEGIN IMMEDIATE``:
    taking the write lock up front makes writers queue on ``busy_timeout`` instead
    of failing with "database is locked" when a read turns into a write.

    Waiting for a pooled connection is bounded by ``db_pool_timeout_seconds``: a
    request that cannot get one fails fast (503 / UNAVAILABLE) instead of queueing
    behind work it cannot see the end of.
    """
    url = settings.resolved_database_url()
    pool: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_pool_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
    }
    if url.startswith("sqlite"):
        path = make_url(url).database
        in_memory = path in (None, "", ":memory:")
        if path and not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        busy = settings.sqlite_busy_timeout_seconds
        connect_args = {"check_same_thread": False, "timeout": busy}
        # An in-memory database lives in one connection per thread: it has no queue.
        sized = {} if in_memory else pool
        engine = create_engine(
            url, connect_args=connect_args, json_deserializer=_json_loads, **sized
        )
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, json_deserializer=_json_loads, **pool)


def _json_loads(data: str | bytes) -> Any:
    """JSON columns decoded by pydantic-core: a feed page decodes an event payload
    per row, and ``json.loads`` took longer than fetching the row."""
    return pydantic_core.from_json(data)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers keep WAL's snapshot reads and never queue behind a writer.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def run_migrations(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent, safe on every start).

    Several servers may start at once on an empty database; each upgrade runs
    alone, and the later ones find the schema already at head. PostgreSQL holds
    an advisory lock for the upgrade's transaction (released at commit, or when
    a crashed server's connection drops); on SQLite the transaction begins with
    ``BEGIN IMMEDIATE``, whose file lock makes the others wait on ``busy_timeout``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            connection.execute(lock, {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


_DEFERRED = "localsync_deferred_rows"


def db_time(value: datetime) -> str:
    """A timestamp as both databases store a naive UTC ``DATETIME``/``timestamp``.

    Rows written in bulk carry it pre-formatted: one ``strftime`` per batch instead
    of a bind processor per row and column.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def db_json(value: Any) -> str:
    """A JSON column's value, serialised once by the caller rather than per bind.

    Encoded by pydantic-core (already here under pydantic): a batch encodes one
    payload per event, and ``json.dumps`` builds a new encoder on every call,
    which cost five times the encoding. Compact and UTF-8, as JSON columns read
    it back the same.
    """
    try:
        return pydantic_core.to_json(value).decode("utf-8")
    except pydantic_core.PydanticSerializationError:  # text that is not valid Unicode
        return json.dumps(value)


def defer_insert(
    session: Session, table: Any, values: dict[str, Any], ignore_existing: bool = False
) -> None:
    """Queue an append-only row to be inserted in bulk before this session commits.

    History, events and processed operations are never read back or changed by
    the transaction that writes them, so they skip the ORM: one executemany per
    table instead of one INSERT (and one object) per row. Code that does read
    those tables inside a write transaction calls :func:`write_deferred` first.
    Values are given as the database stores them (:func:`db_time`,
    :func:`db_json`): nothing is converted row by row on the way.
    """
    pending: dict[tuple[Any, bool], list[dict[str, Any]]] = session.info.setdefault(_DEFERRED, {})
    pending.setdefault((table, ignore_existing), []).append(values)


def insert_rows(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    ignore_existing: bool = False,
    returning: Sequence[str] = (),
) -> list[Row[Any]]:
    """Insert ``rows`` into ``table`` in one statement, with no per-row bind processing.

    Values are as the database stores them (timestamps by :func:`db_time`, JSON
    by :func:`db_json`).

    PostgreSQL gets one ``INSERT ... SELECT FROM unnest(arrays)``: one short
    statement (parsed once, cached) and one round trip, whatever the row count.
    SQLite gets one executemany (or, with ``returning``, one multi-row INSERT).
    ``ignore_existing`` is for content-addressed rows: a row that exists (or
    repeats) is already right. Returns the ``returning`` columns of new rows.
    """
    if not rows:
        return []
    keys = [c.name for c in table.primary_key.columns]
    if ignore_existing:
        rows = list({tuple(r[k] for k in keys): r for r in rows}.values())
    if session.get_bind().dialect.name == "postgresql":
        names = tuple(rows[0])
        statement = _pg_insert(table, names, ignore_existing, tuple(returning))
        arrays = {f"c{i}": [r[n] for r in rows] for i, n in enumerate(names)}
        return _pg_run(session, statement, arrays, bool(returning))
    names = tuple(rows[0])
    if returning:
        return _sqlite_returning(session, table, names, rows, tuple(returning))
    _sqlite_run(session, _sqlite_insert(table, names, ignore_existing), names, rows)
    return []


def update_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Update rows by primary key ``id``, each with its own values, in one statement."""
    if not rows:
        return
    names = tuple(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        arrays = {f"c{i}": [r[n] for r in rows] for i, n in enumerate(names)}
        _pg_run(session, _pg_update(table, names), arrays, False)
        return
    order = (*(n for n in names if n != "id"), "id")
    _sqlite_run(session, _sqlite_update(table, order), order, rows)


def _sqlite_run(
    session: Session, sql: str, names: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """One ``executemany`` on the session's own sqlite3 connection, inside its transaction.

    SQLAlchemy's executemany builds each row's parameters in Python; the driver's
    own loop does not. Driver errors are raised as SQLAlchemy's.
    """
    driver = session.connection().connection.driver_connection
    assert driver is not None
    params = [tuple(r[n] for n in names) for r in rows]
    try:
        driver.executemany(sql, params)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


SQLITE_ROWS_PER_INSERT = 200
"""Rows per multi-row INSERT on SQLite: well under its 32,766 bound variables."""


def _sqlite_returning(
    session: Session,
    table: Table,
    names: tuple[str, ...],
    rows: list[dict[str, Any]],
    returning: tuple[str, ...],
) -> list[Any]:
    """Multi-row ``INSERT ... RETURNING`` on the session's sqlite3 connection.

    Through SQLAlchemy the same statement cost a third of a batch's writes (its
    parameters built and its result rows wrapped in Python, and an autoflush).
    Rows come back as named tuples, like PostgreSQL's.
    """
    driver = session.connection().connection.driver_connection
    assert driver is not None
    shape = _returned_row(returning)
    returned: list[Any] = []
    for start in range(0, len(rows), SQLITE_ROWS_PER_INSERT):
        chunk = rows[start : start + SQLITE_ROWS_PER_INSERT]
        sql = _sqlite_insert_returning(table, names, returning, len(chunk))
        params = [r[n] for r in chunk for n in names]
        try:
            returned.extend(shape._make(r) for r in driver.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc
    return returned


@functools.cache
def _returned_row(names: tuple[str, ...]) -> Any:
    return namedtuple("Returned", names)


@functools.cache
def _sqlite_insert_returning(
    table: Table, names: tuple[str, ...], returning: tuple[str, ...], count: int
) -> str:
    marks = "(" + ", ".join("?" for _ in names) + ")"
    values = ", ".join(marks for _ in range(count))
    columns = ", ".join(names)
    return f"INSERT INTO {table.name} ({columns}) VALUES {values} RETURNING {', '.join(returning)}"


@functools.cache
def _sqlite_insert(table: Table, names: tuple[str, ...], ignore_existing: bool) -> str:
    marks = ", ".join("?" for _ in names)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
    if ignore_existing:
        keys = ", ".join(c.name for c in table.primary_key.columns)
        sql += f" ON CONFLICT ({keys}) DO NOTHING"
    return sql


@functools.cache
def _sqlite_update(table: Table, order: tuple[str, ...]) -> str:
    """``order`` lists the changed columns, then ``id``, as the parameters come."""
    changed = ", ".join(f"{n} = ?" for n in order[:-1])
    return f"UPDATE {table.name} SET {changed} WHERE id = ?"


@functools.cache
def _pg_arrays(table: Table, names: tuple[str, ...]) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return ", ".join(
        f"CAST(%(c{i})b AS {table.c[n].type.compile(dialect=dialect)}[])"
        for i, n in enumerate(names)
    )


def _pg_run(session: Session, sql: str, params: dict[str, Any], fetch: bool) -> list[Any]:
    """Run ``sql`` on the session's own psycopg connection, arrays sent in binary.

    Text arrays are escaped element by element in Python, which cost more than
    the rest of a batch; binary arrays are not. Driver errors are raised as
    SQLAlchemy's, as any other statement's would be (a lost connection is a 503).
    """
    driver = session.connection().connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc


@functools.cache
def _pg_insert(
    table: Table, names: tuple[str, ...], ignore_existing: bool, returning: tuple[str, ...]
) -> str:
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"SELECT * FROM unnest({_pg_arrays(table, names)})"
    )
    if ignore_existing:
        keys = ", ".join(c.name for c in table.primary_key.columns)
        sql += f" ON CONFLICT ({keys}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return sql


@functools.cache
def _pg_update(table: Table, names: tuple[str, ...]) -> str:
    changed = ", ".join(f"{n} = v.{n}" for n in names if n != "id")
    return (
        f"UPDATE {table.name} SET {changed} FROM unnest({_pg_arrays(table, names)})"
        f" AS v({', '.join(names)}) WHERE {table.name}.id = v.id"
    )


def write_deferred(session: Session) -> None:
    """Insert the queued rows, table by table in the order they were first queued."""
    pending: dict[tuple[Any, bool], list[dict[str, Any]]] = session.info.pop(_DEFERRED, {})
    for (model, ignore_existing), rows in pending.items():
        insert_rows(session, model.__table__, rows, ignore_existing)


def keyed_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    key: str,
    values: Iterable[Any],
    scope: tuple[str, Any] | None = None,
) -> list[Row[Any]]:
    """Rows of ``table`` whose ``key`` is one of ``values`` (and ``scope`` column equals a value).

    (scope, key), or key alone, must be a unique index. PostgreSQL gets one index
    probe per value (a LATERAL subquery that cannot be flattened), so the plan
    does not depend on statistics: without them the planner guesses that an
    equality on the scope column alone matches 0.5% of rows and may walk every
    row of a big source through an index prefix, or scan a table it thinks small.
    SQLite's planner already prefers the index that binds every column; its
    rows come back as named tuples.
    """
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        statement = _keyed_statement(table.name, tuple(columns), key, scope and scope[0])
        binds: dict[str, Any] = {"scope": scope[1]} if scope else {}
        return list(connection.execute(statement, {"keys": wanted, **binds}))
    # SQLite: plain SQL cached per chunk size, as SQLAlchemy re-renders an expanding
    # IN on every call. It still goes through the engine (exec_driver_sql), so its
    # events, error wrapping and statement counting see it like any other query.
    shape = _returned_row(tuple(columns))
    found: list[Any] = []
    for start in range(0, len(wanted), _KEYS_PER_STATEMENT):
        chunk = wanted[start : start + _KEYS_PER_STATEMENT]
        sql = _sqlite_keyed(table.name, tuple(columns), key, scope and scope[0], len(chunk))
        params = (*chunk, scope[1]) if scope else tuple(chunk)
        found.extend(shape._make(r) for r in connection.exec_driver_sql(sql, params))
    return found


@functools.cache
def _sqlite_keyed(
    table: str, columns: tuple[str, ...], key: str, scope: str | None, count: int
) -> str:
    marks = ", ".join("?" for _ in range(count))
    scoped = f" AND t.{scope} = ?" if scope else ""
    names = ", ".join(f"t.{c}" for c in columns)
    return f"SELECT {names} FROM {table} AS t WHERE t.{key} IN ({marks}){scoped}"


@functools.cache
def _keyed_statement(
    table: str, columns: tuple[str, ...], key: str, scope: str | None
) -> TextClause:
    """PostgreSQL's, built once per shape, so a batch's lookups cost no parsing or compiling."""
    names = ", ".join(f"t.{c}" for c in columns)
    scoped = f" AND t.{scope} = :scope" if scope else ""
    return text(
        f"SELECT {names} FROM unnest(CAST(:keys AS text[])) AS k(v) "
        f"CROSS JOIN LATERAL (SELECT * FROM {table} AS t "
        f"WHERE t.{key} = k.v{scoped} LIMIT 1) AS t"
    )


_KEYS_PER_STATEMENT = 500
"""Bound values per SQLite statement, far below its limit of 32,766."""


@contextmanager
def session_scope(engine: Engine, read_only: bool = False) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error.

    ``read_only`` promises the work only reads; on SQLite it then does not take
    the write lock.
    """
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            write_deferred(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def unlocked_reads(session: Session) -> Iterator[Session]:
    """Where a write transaction reads what it decides from before taking its lock.

    On PostgreSQL that is ``session`` itself: reads take no lock, and the row
    lock comes later with ``SELECT ... FOR UPDATE``. A SQLite write transaction
    holds the database's write lock from its first statement (``BEGIN
    IMMEDIATE``), so the reads run first in a read-only transaction of their own,
    ended before ``session`` begins. A session already inside a transaction keeps
    reading in it.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or session.in_transaction() or not isinstance(bind, Engine):
        yield session
        return
    with session_scope(bind, read_only=True) as reader:
        yield reader


_ANALYZE = "localsync_analyze_after_commit"
_ANALYZED_TABLES = ("files", "versions", "operations", "events", "blobs")
_analyzing: set[int] = set()
_analyzing_lock = threading.Lock()


def analyze_after_commit(session: Session) -> None:
    """Refresh PostgreSQL's statistics once this transaction commits, in the background.

    Called when a source has grown a lot (its file count crossed a doubling), so
    plans keep matching the data; the request that triggered it does not wait.
    Lookups per batch are planned to use unique indexes whatever the statistics
    (:func:`keyed_rows`); this keeps the other plans (listings, ranges) honest.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.info[_ANALYZE] = True


@event.listens_for(Session, "after_commit")
def _analyze_in_background(session: Session) -> None:
    if not session.info.pop(_ANALYZE, False):
        return
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Engine) else None
    if engine is None:
        return
    with _analyzing_lock:
        if id(engine) in _analyzing:
            return  # one refresh at a time per engine; the running one sees this growth too
        _analyzing.add(id(engine))
    threading.Thread(target=_analyze, args=(engine,), name="localsync-analyze", daemon=True).start()


def _analyze(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text(f"ANALYZE {', '.join(_ANALYZED_TABLES)}"))
            connection.commit()
    except Exception:
        log.warning("refreshing database statistics failed", exc_info=True)
    finally:
        with _analyzing_lock:
            _analyzing.discard(id(engine))
