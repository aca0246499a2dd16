"""Engine construction, sessions and schema migrations for SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from backend.settings import Settings

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
        engine = create_engine(url, connect_args=connect_args, **({} if in_memory else pool))
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


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
