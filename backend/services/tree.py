"""Which paths of a source can hold a file: a name is either a file or a folder.

A connector writes every live file of a source into one folder on disk, so
``notes`` and ``notes/a.md`` cannot both be live: one of them would need
``notes`` to be a file and a folder at once. A deleted file leaves no name behind.

A clash is refused as a conflict with the source's current state (409 on
file/update), not as malformed input: the same path is fine in another source.

Both questions are answered with indexed lookups (the ancestors by exact path,
the descendants by one byte-order range under ``path/``), so the cost does not
depend on how many files the source has.
"""

import functools
from collections.abc import Iterable

from sqlalchemy import ColumnElement, or_, text
from sqlmodel import Session, col, select

from backend.db import keyed_rows
from backend.errors import StateConflict
from backend.models import File
from backend.services.files import FileRow

CODE = "PATH_CLASH"
_PROBES_PER_STATEMENT = 200
"""600 bound values a statement, far below SQLite's and PostgreSQL's limits."""
_CHILDREN_SQL = """
WITH probe(path, lo, hi) AS (VALUES {rows})
SELECT path FROM probe WHERE EXISTS (
    SELECT 1 FROM files
    WHERE files.source_id = ?
      AND files.relative_path >= probe.lo AND files.relative_path < probe.hi
      AND (files.current_hash IS NOT NULL OR files.state = 'conflict')
)
"""
"""Built as text: composing hundreds of ORM expressions per batch cost more than the query.
The range [``path/``, ``path0``) holds exactly the paths under ``path/`` in byte order."""


_PG_CHILDREN_SQL = """
SELECT probe.path FROM unnest(CAST(:paths AS text[])) AS probe(path) WHERE EXISTS (
    SELECT 1 FROM files
    WHERE files.source_id = :source_id
      AND files.relative_path COLLATE "C" >= probe.path || '/'
      AND files.relative_path COLLATE "C" < probe.path || '0'
      AND (files.current_hash IS NOT NULL OR files.state = 'conflict')
)
"""
_PG_CHILDREN = text(_PG_CHILDREN_SQL)


@functools.cache
def _sqlite_children_sql(count: int) -> str:
    """Built once per probe count: composing it for every batch cost more than the query."""
    return _CHILDREN_SQL.format(rows=", ".join("(?, ?, ?)" for _ in range(count)))


def ancestors(path: str) -> list[str]:
    """``a/b/c.md`` -> ``["a", "a/b"]``: the folders a file at ``path`` needs."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def is_live(file: "File | FileRow | None") -> bool:
    """A file occupies its name while it has content or an open conflict."""
    return file is not None and (file.current_hash is not None or file.state == "conflict")


def _live() -> ColumnElement[bool]:
    return or_(col(File.current_hash).is_not(None), col(File.state) == "conflict")


def _bytewise(session: Session) -> ColumnElement[str]:
    """The path column compared byte by byte (PostgreSQL collations may not be)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    return col(File.relative_path).collate("C" if postgres else "BINARY")


def _under(session: Session, source_id: str, folder: str) -> ColumnElement[bool]:
    """Paths strictly inside ``folder``: the range [``folder/``, ``folder0``), '0' following '/'."""
    path = _bytewise(session)
    return (
        (col(File.source_id) == source_id)
        & (path >= folder + "/")
        & (path < folder + "0")
        & _live()
    )


class Occupancy:
    """The live names of one source as a sequence of edits changes them.

    Built once per batch with the paths it may create; ``check`` answers for one
    path given what the earlier items of the batch did (``record``).
    """

    def __init__(self, session: Session, source_id: str, paths: Iterable[str]) -> None:
        self.session = session
        self.source_id = source_id
        wanted = sorted(set(paths))
        self._live_folders = self._live_paths({a for p in wanted for a in ancestors(p)})
        self._has_children = self._with_children(wanted)
        self._changed: dict[str, bool] = {}
        """Paths this batch made live (True) or deleted (False) so far."""
        self._changed_under: dict[str, dict[str, bool]] = {}
        """The same, by each folder above them: a check looks at its own folder only."""

    def _live_paths(self, paths: set[str]) -> set[str]:
        """Of ``paths``, those holding a live file: one unique-index probe each."""
        table = File.__table__  # type: ignore[attr-defined]
        columns = ("relative_path", "current_hash", "state")
        rows = keyed_rows(
            self.session, table, columns, "relative_path", paths, ("source_id", self.source_id)
        )
        return {
            r.relative_path for r in rows if r.current_hash is not None or r.state == "conflict"
        }

    def _with_children(self, paths: list[str]) -> set[str]:
        """Of ``paths``, those with a live file below them: one indexed range probe each,
        sent as a few statements rather than one round trip per path."""
        if not paths:
            return set()
        if self.session.get_bind().dialect.name == "postgresql":
            binds = {"source_id": self.source_id, "paths": paths}
            return set(self.session.execute(_PG_CHILDREN, binds).scalars())
        # SQLite: plain SQL cached per chunk size with positional values, run through
        # the engine (exec_driver_sql): SQLAlchemy's processing of 600 named binds
        # cost three times the query.
        found: set[str] = set()
        connection = self.session.connection()
        for start in range(0, len(paths), _PROBES_PER_STATEMENT):
            chunk = paths[start : start + _PROBES_PER_STATEMENT]
            params: list[str] = []
            for path in chunk:
                params += (path, path + "/", path + "0")
            params.append(self.source_id)
            sql = _sqlite_children_sql(len(chunk))
            found.update(connection.exec_driver_sql(sql, tuple(params)).scalars())
        return found

    def record(self, path: str, live: bool) -> None:
        self._changed[path] = live
        for folder in ancestors(path):
            self._changed_under.setdefault(folder, {})[path] = live

    def check(self, path: str) -> None:
        """Raise ``PATH_CLASH`` if a live file at ``path`` could not sit beside the others."""
        for folder in ancestors(path):
            if self._changed.get(folder, folder in self._live_folders):
                raise StateConflict(
                    f"{folder!r} is a file, so it cannot also be a folder holding {path!r}",
                    CODE,
                )
        if self._has_live_children(path):
            raise StateConflict(
                f"{path!r} is a folder holding other files, so it cannot also be a file", CODE
            )

    def _has_live_children(self, path: str) -> bool:
        below = self._changed_under.get(path, {})
        if any(below.values()):
            return True
        if path not in self._has_children:
            return False
        if not below:
            return True
        # Some files below were deleted earlier in this batch: ask again without them.
        statement = select(File.id).where(
            _under(self.session, self.source_id, path), col(File.relative_path).not_in(list(below))
        )
        return self.session.exec(statement.limit(1)).first() is not None


def check_path_free(session: Session, source_id: str, path: str) -> None:
    """The same rule for a single edit (Raven-side file/update, restore)."""
    Occupancy(session, source_id, [path]).check(path)
