"""Walking the folder: what is there, what changed since the journal, what is not synced.

Unchanged files are recognised by (mtime_ns, size, inode) from the journal so a
rescan of a large folder reads and hashes only what changed; ``Scan.hashed``
names what was read, so that promise can be checked.
"""

import logging
import os
import stat as stat_mod
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple

from connector.attachments import MAX_ATTACHMENT_BYTES, decode_local, is_packed
from connector.collector import collector_paused
from connector.hashing import sha256_hex
from connector.ignore import Rules
from connector.journal import FileRow

log = logging.getLogger("connector")


class LocalFile(NamedTuple):
    """A tuple, not a dataclass: a scan builds one per file, and tuples build fast."""

    path: str
    mtime_ns: int
    size: int
    hash: str
    content: str | None
    """Decoded text (or an attachment's packed bytes, see ``connector.attachments``)
    when the file was read; None when the journal's hash was reused."""
    inode: int = 0


_local_file = partial(tuple.__new__, LocalFile)
"""``LocalFile`` from a tuple of its fields, built in C (a scan builds one per file)."""


@dataclass
class Scan:
    files: dict[str, LocalFile] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Paths present on disk but not synced, with the reason."""
    hashed: list[str] = field(default_factory=list)
    """Paths read and hashed by this scan (the rest were trusted from the journal)."""
    moved: dict[str, str] = field(default_factory=dict)
    """New path -> the vanished journaled path whose file it is (same inode, size and
    mtime_ns): a move, trusted without reading the file."""


def clash_key(path: str) -> str:
    """Two names that differ only by case or Unicode normal form collide on many disks."""
    if path.isascii():
        return path.lower()  # the same key, without the Unicode tables
    return unicodedata.normalize("NFC", path).casefold()


Found = tuple[str, os.stat_result, str]
"""A file the walk found: POSIX path relative to the root, its lstat, its full path."""


def walk(root: Path, rules: Rules, skipped: dict[str, str], known: Collection[str]) -> list[Found]:
    """Every synced-by-name regular file (or symlink) under ``root``, with its lstat.

    Names are judged while each directory is listed: files the rules leave out are
    never stat-ed, only recorded in ``skipped`` (those that say nothing new, a
    built-in ignore or a name outside the include globs, only when ``known``). A
    directory no ignore file applies to is judged by one regular expression per file.
    """
    out: list[Found] = []
    stack = [("", str(root))]
    while stack:
        rel_dir, directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as exc:
            log.warning("cannot list %s: %s", directory, exc)
            continue
        here = rel_dir[:-1]
        rules.listed(here, [e.name for e in entries])
        quick = rules.quick(here)
        for entry in entries:
            rel = rel_dir + entry.name
            try:
                if entry.is_file(follow_symlinks=False) or entry.is_symlink():
                    if (quick is None or not quick(rel)) and _skip(rel, rules, skipped, known):
                        continue
                    out.append((rel, entry.stat(follow_symlinks=False), entry.path))
                elif entry.is_dir(follow_symlinks=False) and not rules.skip_dir(rel):
                    stack.append((rel + "/", entry.path))
            except OSError as exc:
                log.warning("cannot stat %s: %s", entry.path, exc)
    return out


def _skip(path: str, rules: Rules, skipped: dict[str, str], known: Collection[str]) -> bool:
    """Whether the rules leave ``path`` out; recorded in ``skipped`` when worth saying."""
    reason = rules.reason(path)
    if reason is None:
        return False
    if reason not in ("built-in ignore", "not included") or path in known:
        skipped[path] = reason
    return True


def read_local(root: Path, path: str, rules: Rules, known: FileRow | None) -> LocalFile | str:
    """The file as a ``LocalFile``, or the reason it is not synced."""
    full = root / path
    try:
        st = full.lstat()
    except FileNotFoundError:
        return "missing"
    return _examine(full, path, st, rules, known)


def _examine(
    full: Path | str, path: str, st: os.stat_result, rules: Rules, known: FileRow | None
) -> LocalFile | str:
    if stat_mod.S_ISLNK(st.st_mode):
        return "symlink"
    if st.st_size > max(rules.max_bytes, MAX_ATTACHMENT_BYTES):
        return f"too large: {st.st_size} bytes > {max(rules.max_bytes, MAX_ATTACHMENT_BYTES)}"
    if (
        known is not None
        and known.base_hash
        and known.mtime_ns == st.st_mtime_ns
        and known.size == st.st_size
        and known.inode == st.st_ino
    ):
        return LocalFile(path, st.st_mtime_ns, st.st_size, known.base_hash, None, st.st_ino)
    try:
        with open(full, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    text = decode_local(path, data)
    limit = MAX_ATTACHMENT_BYTES if is_packed(text) else rules.max_bytes
    if len(data) > limit:
        kind = "attachment" if is_packed(text) else "text"
        return f"too large: {kind} of {len(data)} bytes > {limit}"
    return LocalFile(path, st.st_mtime_ns, st.st_size, sha256_hex(data), text, st.st_ino)


def scan(root: Path, rules: Rules, known: dict[str, FileRow]) -> Scan:
    """What is in the folder; files whose (mtime_ns, size, inode) match the journal are
    trusted, the rest read and hashed."""
    result = Scan()
    with collector_paused():
        candidates = walk(root, rules, result.skipped, known)
        for name, others in _clashes([c[0] for c in candidates]):
            result.skipped[name] = f"name clash (case or Unicode form) with {others}"
        files, hashed, skipped = result.files, result.hashed, result.skipped
        max_bytes, lookup, is_link = rules.max_bytes, known.get, stat_mod.S_ISLNK
        moves = _Moves(known, candidates)
        for path, st, full in candidates:
            row = lookup(path)
            # The trust test of ``_examine``, inlined: it runs for every file of the
            # folder. FileRow fields by index: 1 base_hash, 3 mtime_ns, 4 size, 7 inode.
            if (
                row is not None
                and row[3] == st.st_mtime_ns
                and row[4] == st.st_size
                and row[7] == st.st_ino
                and row[1]
                and st.st_size <= max_bytes
                and not is_link(st.st_mode)
                and path not in skipped
            ):
                files[path] = _local_file((path, row[3], row[4], row[1], None, row[7]))
                continue
            if path in skipped:
                continue
            if row is None and st.st_size <= max_bytes and not is_link(st.st_mode):
                was = moves.origin(st)
                if was is not None:
                    files[path] = _local_file((path, was[3], was[4], was[1], None, was[7]))
                    result.moved[path] = was[0]
                    continue
            outcome = _examine(full, path, st, rules, row)
            if isinstance(outcome, str):
                skipped[path] = outcome
            else:
                files[path] = outcome
                if outcome.content is not None:
                    hashed.append(path)
    for path, reason in sorted(result.skipped.items()):
        log.info("not synced (%s): %s", reason, path)
    log.debug("scanned %d file(s), read %d", len(result.files), len(result.hashed))
    return result


class _Moves:
    """Finds the journaled file a new path is, by (inode, size, mtime_ns), when that
    file's path vanished: a rename keeps all three, so the file need not be read.
    A copy has a new inode; it is read, and paired by content hash (``connector.moves``).
    Built on the first new path only: a rescan with none costs nothing."""

    def __init__(self, known: dict[str, FileRow], found: list[Found]) -> None:
        self._known, self._found = known, found
        self._index: dict[tuple[int, int, int], FileRow] | None = None

    def origin(self, st: os.stat_result) -> FileRow | None:
        if self._index is None:
            present = {f[0] for f in self._found}
            self._index = {
                (r.inode, r.size, r.mtime_ns): r
                for r in self._known.values()
                if r.inode and r.base_hash and r.path not in present
            }
        return self._index.pop((st.st_ino, st.st_size, st.st_mtime_ns), None)


def to_check(result: Scan, pending: Collection[str]) -> list[str]:
    """The found paths that may have something to journal, in walk order: those this
    scan read, and those with a pending operation. Every other file matched its
    journal row (stat and synced hash), so it has nothing to journal: a rescan of an
    unchanged folder looks at no file twice. Moved files (``Scan.moved``) are checked too."""
    if not pending and not result.moved:
        return result.hashed
    hashed = set(result.hashed) | result.moved.keys()
    return [p for p in result.files if p in hashed or p in pending]


def unseen(known: dict[str, FileRow], result: Scan) -> list[str]:
    """The journaled paths this scan found neither synced nor skipped, in journal order."""
    gone = known.keys() - result.files.keys() - result.skipped.keys()
    return [p for p in known if p in gone] if gone else []


def _clashes(paths: list[str]) -> Iterator[tuple[str, str]]:
    """Each path whose name clashes with others (same ``clash_key``), with those others."""
    keys = list(map(str.lower, paths)) if "".join(paths).isascii() else list(map(clash_key, paths))
    if len(set(keys)) == len(keys):
        return  # the usual case, decided without a Python call per path
    groups: dict[str, list[str]] = defaultdict(list)
    for key, path in zip(keys, paths, strict=True):
        groups[key].append(path)
    for names in groups.values():
        if len(names) > 1:
            for name in names:
                yield name, ", ".join(n for n in names if n != name)
