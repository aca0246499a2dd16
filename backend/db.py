"""Engine construction, sessions and schema migrations for SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_ONLY = "localsync_read_only"


def make_engine(url: str) -> Engine:
    """Create an engine tuned for the backend in ``url``.

    SQLite runs in WAL mode and starts every transaction with ``BEGIN IMMEDIATE``:
    taking the write lock up front makes writers queue on ``busy_timeout`` instead
    of failing with "database is locked" when a read turns into a write.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers keep WAL's snapshot reads and never queue behind a writer.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def run_migrations(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent, safe on every start)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


_DEFERRED = "localsync_deferred_rows"


def defer_insert(
    session: Session, table: Any, values: dict[str, Any], ignore_existing: bool = False
) -> None:
    """Queue an append-only row to be inserted in bulk before this session commits.

    History, events and processed operations are never read back or changed by
    the transaction that writes them, so they skip the ORM: one executemany per
    table instead of one INSERT (and one object) per row. Code that does read
    those tables inside a write transaction calls :func:`write_deferred` first.
    """
    pending: dict[tuple[Any, bool], list[dict[str, Any]]] = session.info.setdefault(_DEFERRED, {})
    pending.setdefault((table, ignore_existing), []).append(values)


def write_deferred(session: Session) -> None:
    """Insert the queued rows, table by table in the order they were first queued."""
    pending: dict[tuple[Any, bool], list[dict[str, Any]]] = session.info.pop(_DEFERRED, {})
    for (model, ignore_existing), rows in pending.items():
        table = model.__table__
        if not ignore_existing:
            session.execute(table.insert(), rows)
            continue
        # Content-addressed rows: a row that exists (or repeats) is already right.
        keys = [c.name for c in table.primary_key.columns]
        unique = list({tuple(r[k] for k in keys): r for r in rows}.values())
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(table).on_conflict_do_nothing(index_elements=keys), unique)


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
