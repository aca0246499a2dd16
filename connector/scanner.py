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
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from connector.attachments import MAX_ATTACHMENT_BYTES, decode_local, is_packed
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


@dataclass
class Scan:
    files: dict[str, LocalFile] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Paths present on disk but not synced, with the reason."""
    hashed: list[str] = field(default_factory=list)
    """Paths read and hashed by this scan (the rest were trusted from the journal)."""


def clash_key(path: str) -> str:
    """Two names that differ only by case or Unicode normal form collide on many disks."""
    if path.isascii():
        return path.lower()  # the same key, without the Unicode tables
    return unicodedata.normalize("NFC", path).casefold()


Found = tuple[str, os.stat_result, str]
"""A file the walk found: POSIX path relative to the root, its lstat, its full path."""


def walk(root: Path, rules: Rules) -> list[Found]:
    """Every regular file under ``root`` (no symlinks followed), with a POSIX relative path."""
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
        for entry in entries:
            rel = f"{rel_dir}{entry.name}"
            try:
                if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    out.append((rel, entry.stat(follow_symlinks=False), entry.path))
                elif entry.is_dir(follow_symlinks=False) and not rules.skip_dir(rel):
                    stack.append((rel + "/", entry.path))
            except OSError as exc:
                log.warning("cannot stat %s: %s", entry.path, exc)
    return out


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
    result = Scan()
    candidates: list[Found] = []
    for found in walk(root, rules):
        path = found[0]
        reason = rules.reason(path)
        if reason is None:
            candidates.append(found)
        elif reason not in ("built-in ignore", "not included") or path in known:
            result.skipped[path] = reason
    groups: dict[str, list[str]] = defaultdict(list)
    for path, _, _ in candidates:
        groups[path.lower() if path.isascii() else clash_key(path)].append(path)
    for names in groups.values():
        if len(names) > 1:
            for name in names:
                others = ", ".join(n for n in names if n != name)
                result.skipped[name] = f"name clash (case or Unicode form) with {others}"
    for path, st, full in candidates:
        if path in result.skipped:
            continue
        outcome = _examine(full, path, st, rules, known.get(path))
        if isinstance(outcome, str):
            result.skipped[path] = outcome
        else:
            result.files[path] = outcome
            if outcome.content is not None:
                result.hashed.append(path)
    for path, reason in sorted(result.skipped.items()):
        log.info("not synced (%s): %s", reason, path)
    log.debug("scanned %d file(s), read %d", len(result.files), len(result.hashed))
    return result
