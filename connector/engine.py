"""The sync engine: scan → journal → push → pull, with the safety stops.

Ordering rules this module keeps:

* an operation is journaled (committed) before it is pushed and forgotten only
  after the server answered for it, so nothing is lost and nothing is applied
  twice (the server answers a replayed ``operationId`` with ``duplicate``);
* the base of every push is the hash this connector last synced for that path
  (from the journal), never the server's current hash;
* a remote change is written only when the local file still holds what was
  last synced; otherwise the local edit wins the race and is pushed with its
  old base, so the server merges it or opens a conflict;
* not syncing is never deleting, and suspicious deletes stop the run, whether
  a local scan or a pull from the server would make them.

Crash-test hook: with ``LOCALSYNC_CONNECTOR_FAULT`` set to ``after-journal`` or
``after-push`` in its environment, the process SIGKILLs itself right after
journaling a scan's operations, or right after the server answered a push and
before that answer is recorded. The durability tests use it to show a
``kill -9`` at the worst moments loses and doubles nothing. It is read only by
``_fault`` below and is not a user option.
"""

import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from connector import __version__, moves
from connector.attachments import ACCEPT, content_hash, from_wire, to_bytes, wire_fields
from connector.client import ApiError, Backoff, Client, SourcePaused, Unreachable
from connector.ignore import DEFAULT_INCLUDE, Rules, load_rules
from connector.journal import Journal, JournalCorrupt, NewOp, Op
from connector.localfs import UnsafePath, atomic_write, remove_file, safe_target
from connector.scanner import Scan, clash_key, read_local, scan, to_check, unseen
from connector.state import load_state, save_state, state_dir

log = logging.getLogger("connector")

EXIT_OK = 0
EXIT_NOT_CONVERGED = 1
EXIT_SAFETY_STOP = 2
EXIT_UNREACHABLE = 3
EXIT_PAUSED = 4

MAX_BATCH_ITEMS = 100
MAX_BATCH_BYTES = 32 * 1024 * 1024
READ_AHEAD_BYTES = 64 * 1024 * 1024
"""Delta pages read ahead for the remote delete check are kept up to this much content."""
FILE_EVENTS = ("file.upsert", "file.delete")
WRITERS = 16
"""Files written (and fsynced) at once while applying a page of remote changes."""


class SafetyStop(Exception):
    """A run that would destroy data stops here and says why."""


@dataclass
class Options:
    root: Path
    server: str | None = None
    token: str = ""
    workspace: str | None = None
    source_name: str | None = None
    mode: str = "bidirectional"
    include: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    max_bytes: int = 5 * 1024 * 1024
    allow_deletes: bool = False
    max_deletes: int = 50
    max_delete_ratio: float = 0.2
    retries: int = 5


@dataclass
class Report:
    pushed: int = 0
    written: int = 0
    deleted: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    conflicts: dict[str, str] = field(default_factory=dict)
    paused: bool = False
    unreachable: bool = False
    skipped: dict[str, str] = field(default_factory=dict)


def open_journal(root: Path) -> Journal:
    """Open the journal; a corrupt one is moved aside and a fresh one started.

    A fresh journal knows no synced hashes, so the next pass pushes differences
    with no base (the server turns real differences into conflicts) and, having
    no record of what existed, deletes nothing.
    """
    directory = state_dir(root)
    directory.mkdir(exist_ok=True)
    path = directory / "journal.db"
    try:
        return Journal(path)
    except JournalCorrupt as exc:
        aside = path.with_name(f"journal.db.corrupt-{int(time.time())}")
        log.error("journal %s is corrupt (%s); moved to %s, starting fresh", path, exc, aside)
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                os.replace(p, Path(str(aside) + suffix))
        return Journal(path)


class Engine:
    def __init__(self, opts: Options, stop: threading.Event | None = None) -> None:
        self.opts = opts
        self.root = opts.root
        self.stop = stop or threading.Event()
        if not self.root.is_dir():
            raise SafetyStop(
                f"root folder {self.root} is missing; sending no deletes. "
                "Restore it (or point sync at the right folder)."
            )
        self.journal = open_journal(self.root)
        if self.journal.fresh:
            log.info("journal is new: pushes carry no base and nothing will be deleted")
        self.state = load_state(self.root)
        self._saved_state = replace(self.state)
        server = opts.server or self.state.server or "http://127.0.0.1:8000"
        workspace = opts.workspace or self.state.workspace or ""
        self.state.server, self.state.workspace = server, workspace
        self.client = Client(
            server, opts.token, workspace, Backoff(attempts=max(1, opts.retries)), self.stop
        )
        self.source: dict[str, Any] | None = None
        self.rules: Rules = self._rules()
        self._local_keys: dict[str, str] | None = {}
        self._scanned: list[str] = []
        self.pulled_cursor = self.journal.cursor
        """The last cursor pulled (read by the event subscription's thread)."""
        self._writes: list[tuple[str, str, bytes]] = []
        """Remote content the page being applied will write (path, hash, bytes)."""
        self.moved_dirs: set[Path] = set()
        """Folders that local renames of remote moves touched, not yet fsynced."""
        self.last_scan: Scan | None = None
        """The latest scan (``hashed`` tells which files it had to read)."""

    def close(self) -> None:
        self.client.close()
        self.journal.close()

    # ---- identity ----------------------------------------------------------

    @property
    def connector_id(self) -> str:
        return self.state.connector_id or ""

    @property
    def source_id(self) -> str:
        return self.state.source_id or ""

    @property
    def mode(self) -> str:
        if self.source is not None:
            return str(self.source["mode"])
        return self.state.mode or self.opts.mode

    def ensure_registered(self) -> None:
        """Register the connector and create or attach the source once; remember both."""
        if not self.state.connector_id:
            row = self.client.register(socket.gethostname(), sys.platform, __version__)
            self.state.connector_id = str(row["id"])
            log.info("registered connector %s", self.state.connector_id)
        sources = self.client.sources()
        name = self.opts.source_name or self.state.source_name or self.root.resolve().name
        found = None
        if self.state.source_id:
            found = next((s for s in sources if s["id"] == self.state.source_id), None)
            if found is None:
                raise SafetyStop(f"source {self.state.source_id} no longer exists on the server")
        else:
            found = next((s for s in sources if s["name"] == name), None)
            if found is not None:
                log.info("attached to existing source %r (%s)", name, found["id"])
        if found is None:
            # Our own defaults, not the documented API's markdown-only one: a vault's
            # images and PDFs are part of its notes.
            include = self.opts.include or list(DEFAULT_INCLUDE)
            found = self.client.create_source(
                name, self.opts.mode, self.connector_id, include, self.opts.exclude
            )
            log.info("created source %r (%s, %s)", name, found["id"], found["mode"])
        self.source = found
        self.state.source_id, self.state.source_name = str(found["id"]), str(found["name"])
        self.state.mode = str(found["mode"])
        if self.state != self._saved_state:  # a rerun that changes nothing writes nothing
            save_state(self.root, self.state)
            self._saved_state = replace(self.state)
        self.journal.set_meta("connector_id", self.connector_id)
        self.journal.set_meta("source_id", self.source_id)
        self.rules = self._rules()

    def _rules(self) -> Rules:
        include = self.opts.include
        exclude = list(self.opts.exclude)
        if self.source is not None:
            include = include or list(self.source.get("includePatterns") or []) or None
            exclude = list(self.source.get("excludePatterns") or []) + exclude
        return load_rules(self.root, include, exclude, self.opts.max_bytes)

    @property
    def local_keys(self) -> dict[str, str]:
        """The scanned paths by clash key; built when a pull first needs it, not per scan."""
        if self._local_keys is None:
            self._local_keys = {clash_key(p): p for p in self._scanned}
        return self._local_keys

    def heartbeat(self) -> None:
        if self.connector_id:
            self.client.heartbeat(self.connector_id)

    # ---- scan → journal ------------------------------------------------------

    def scan_and_journal(self) -> Scan:
        """Turn what changed on disk into journaled operations; may raise ``SafetyStop``."""
        if not self.root.is_dir():
            raise SafetyStop(f"root folder {self.root} is missing; sending no deletes")
        self.rules = self._rules()
        rows = self.journal.files()
        result = scan(self.root, self.rules, rows)
        self.last_scan = result
        self._scanned, self._local_keys = [*result.files, *result.skipped], None
        latest = self.journal.latest_ops()
        upserts: list[NewOp] = []
        for path in to_check(result, latest):
            lf, row, lop = result.files[path], rows.get(path), latest.get(path)
            if lop is not None:
                expected = None if lop.is_delete else lop.content_hash
            else:
                expected = row.base_hash if row is not None and row.base_hash else None
            if lf.hash == expected:
                stat = (lf.mtime_ns, lf.size, lf.inode)
                if lop is None and row is not None and (row.mtime_ns, row.size, row.inode) != stat:
                    self.journal.set_stat(path, *stat)
                continue
            if row is not None and row.rejected_hash == lf.hash:
                continue
            content = lf.content
            if content is None and expected is None and moves.unread_move(result, latest, path):
                stat = (lf.mtime_ns, lf.size, lf.inode)
                upserts.append(NewOp(path, False, None, lf.hash, None, *stat))
                continue
            if content is None:
                fresh = read_local(self.root, path, self.rules, None)
                if isinstance(fresh, str):
                    continue
                lf, content = fresh, fresh.content
            assert content is not None
            upserts.append(
                NewOp(path, False, content, lf.hash, expected, lf.mtime_ns, lf.size, lf.inode)
            )
        deletes: list[NewOp] = []
        for path in unseen(rows, result):
            row = rows[path]
            if not row.base_hash:
                continue
            lop = latest.get(path)
            if lop is not None and lop.is_delete:
                continue
            if self.rules.reason(path) is not None:
                result.skipped[path] = self.rules.reason(path) or ""
                continue
            if os.path.lexists(self.root / path):
                continue
            base = lop.content_hash if lop is not None else row.base_hash
            deletes.append(NewOp(path, True, None, None, base))
        ops, alone = moves.pair(deletes, upserts, result.moved)
        for i in reversed(moves.unpaired_bare(ops)):
            filled = moves.with_content(self, ops[i])
            ops[i : i + 1] = [filled] if filled is not None else []
        if alone and not self.opts.allow_deletes:
            self._check_deletes(alone, result, rows)
        if ops:
            self.journal.add_ops(ops)
            log.info("journaled %d change(s) (%d delete(s))", len(ops), len(deletes))
            _fault("after-journal")
        return result

    def _check_deletes(self, deletes: list[NewOp], result: Scan, rows: dict[str, Any]) -> None:
        tracked = sum(1 for r in rows.values() if r.base_hash)
        if not result.files:
            raise SafetyStop(
                f"root folder {self.root} is empty but {tracked} file(s) were synced; "
                "sending no deletes. If you really emptied it, run again with --allow-deletes."
            )
        n = len(deletes)
        if self._too_many_deletes(n, tracked):
            raise SafetyStop(
                f"this scan would delete {n} of {tracked} synced file(s) (limit "
                f"{self.opts.max_deletes} files or {self.opts.max_delete_ratio:.0%}); "
                "sending no deletes. If that is intended, run again with --allow-deletes."
            )

    # ---- push ----------------------------------------------------------------

    def push_pending(self, report: Report, only_due: bool = False) -> None:
        """Push journaled operations in batches; stop early on outage, pause or stop.

        One batch is on the wire at a time, in journal order. While it is, the next
        batch is encoded and, once the answer is in and the next batch sent, the
        answered one is recorded, so local work overlaps the server's. A crash
        between an answer and its recording only replays operations the server
        answers ``duplicate``.
        """
        ops = moves.completed(self, self.journal.pending(time.time() if only_due else None))
        if not ops:
            return
        progress = _progress(len(ops), "pushing")
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="push")
        in_flight: tuple[list[Op], Future[dict[str, Any]]] | None = None
        try:
            for batch in _batches(ops):
                if self.stop.is_set():
                    break
                items = moves.wire_items(batch, moves.partners(batch), _wire_item)
                body = self.client.encode_push(self.source_id, self.connector_id, items)
                answered: tuple[list[Op], dict[str, Any]] | None = None
                if in_flight is not None:
                    answer = self._answer(*in_flight, report)
                    if answer is None:
                        return
                    answered = (in_flight[0], answer)
                in_flight = (batch, pool.submit(self.client.push_encoded, body))
                if answered is not None:
                    self._record_batch(*answered, report)
                    progress(len(answered[0]))
            if in_flight is not None:
                answer = self._answer(*in_flight, report)
                if answer is not None:
                    self._record_batch(in_flight[0], answer, report)
                    progress(len(in_flight[0]))
        finally:
            pool.shutdown(wait=True)
            progress(-1)

    def _answer(
        self, batch: list[Op], future: Future[dict[str, Any]], report: Report
    ) -> dict[str, Any] | None:
        """The server's answer to a batch, or None (journal updated) when it had none."""
        try:
            answer = future.result()
        except SourcePaused:
            report.paused = True
            log.warning("source is paused: %d change(s) stay journaled", len(batch))
            self.journal.retry_later([o.op_id for o in batch], 30.0, "source paused")
            return None
        except Unreachable as exc:
            report.unreachable = True
            delay = self.client.backoff.delay(min(max(o.attempts for o in batch), 6))
            self.journal.retry_later([o.op_id for o in batch], delay, str(exc))
            log.warning("server unreachable (%s): %d change(s) stay journaled", exc, len(batch))
            return None
        except ApiError as exc:
            log.error("push refused as a whole: %s", exc)
            self.journal.retry_later([o.op_id for o in batch], 60.0, str(exc))
            report.rejected.extend((o.path, exc.code) for o in batch)
            return None
        _fault("after-push")
        return answer

    def _record_batch(self, batch: list[Op], answer: dict[str, Any], report: Report) -> None:
        by_id = {r.get("operationId"): r for r in answer["results"]}
        moved = moves.partners(batch)
        with self.journal.transaction():
            for op in batch:
                res = by_id.get(op.op_id)
                gone = moved.get(op.op_id)
                if res is not None and gone is not None and moves.settle(self, gone, op, res):
                    continue
                if res is not None:
                    self._record_result(moves.followed(self, op, res), res, report)
                    self.journal.finish_op(op.op_id)

    def _record_result(self, op: Op, res: dict[str, Any], report: Report) -> None:
        status, server_hash = res["status"], res.get("hash")
        conflict_id = res.get("conflictId")
        if status == "rejected":
            code, message = res.get("code") or "REJECTED", res.get("message") or ""
            log.error("rejected %s: %s %s", op.path, code, message)
            report.rejected.append((op.path, code))
            if op.content_hash:
                self.journal.set_rejected(op.path, op.content_hash)
            return
        report.pushed += 1
        if status == "conflict" or (status == "duplicate" and conflict_id):
            report.conflicts[op.path] = str(conflict_id)
            log.warning(
                "conflict on %s (conflict %s): the server kept both sides; resolve it with "
                "`localsync` (terminal app) or POST sources/conflicts/resolve "
                "(keep_local | keep_raven | manual_merge), then sync again",
                op.path,
                conflict_id,
            )
            base = op.content_hash or ""
            self.journal.set_file(
                op.path, base, None, op.mtime_ns, op.size, str(conflict_id), op.inode
            )
            return
        if op.is_delete:
            self.journal.drop_file(op.path)
            return
        assert op.content_hash is not None
        remote = server_hash or op.content_hash
        if status == "merged":
            log.info("merged %s with a remote edit", op.path)
        self.journal.set_file(
            op.path, op.content_hash, remote, op.mtime_ns, op.size, None, op.inode
        )

    # ---- pull ----------------------------------------------------------------

    def pull(self, report: Report) -> None:
        """Apply remote events from the saved cursor, page by page, saving the cursor.

        The pages this pull will apply are looked at first: if together they would
        delete more local files than the delete limits allow, nothing is applied,
        the cursor stays where it was and the run stops (``--allow-deletes``).
        """
        if self.mode != "bidirectional":
            return
        cursor = self.journal.cursor
        pages = self._pages_checked(cursor)
        while not self.stop.is_set():
            page = next(pages, None)
            if page is None:
                return
            last: dict[str, dict[str, Any]] = {}
            resumed = False
            for event in page["events"]:
                path, kind = event.get("relativePath"), event["type"]
                if kind in FILE_EVENTS and path:
                    last[path] = event
                elif kind == "conflict.resolved" and path:
                    self.journal.set_conflict(path, None)
                elif kind == "conflict.opened" and path:
                    cid = (event.get("payload") or {}).get("conflictId")
                    self.journal.set_conflict(path, str(cid) if cid else None)
                    log.warning("conflict opened on %s", path)
                elif kind in ("source.paused", "source.resumed"):
                    log.info("%s", kind)
                    resumed = kind == "source.resumed"
            with self.journal.transaction():
                for path, event in last.items():
                    self._apply_remote(path, event, report)
                self._write_all(report)
                moves.sync_dirs(self)
                cursor = int(page["nextCursor"])
                self.journal.set_cursor(cursor)
                if resumed:
                    self.journal.due_now()  # what waited for the pause goes out now
            self.pulled_cursor = cursor

    def _pages_checked(self, cursor: int) -> Iterator[dict[str, Any]]:
        """The delta pages from ``cursor`` on, once the remote delete check has passed.

        One page (the usual case) is fetched once. A longer backlog is read ahead
        to count its deletes; pages are kept for applying while their content stays
        under ``READ_AHEAD_BYTES``, beyond that they are fetched again.
        """
        kept: list[dict[str, Any]] = []
        keep, kept_bytes = True, 0
        final: dict[str, str] = {}
        renamed: dict[str, str] = {}
        position = cursor
        while not self.stop.is_set():
            page = self._deltas(position)
            for event in page["events"]:
                moves.track(event, final, renamed)
            if keep:
                kept_bytes += sum(
                    len(str((e.get("payload") or {}).get("content") or "")) for e in page["events"]
                )
                keep = kept_bytes <= READ_AHEAD_BYTES
                if keep:
                    kept.append(page)
                else:
                    kept.clear()
            position = int(page["nextCursor"])
            if not page["hasMore"]:
                break
        if not self.opts.allow_deletes:
            self._check_remote_deletes(moves.local_deletes(final, renamed))
        if keep:
            yield from kept
            return
        position = cursor
        while True:
            page = self._deltas(position)
            yield page
            position = int(page["nextCursor"])
            if not page["hasMore"]:
                return

    def _deltas(self, cursor: int) -> dict[str, Any]:
        """A page of events; this connector's own pushes come without content."""
        return self.client.deltas(
            self.source_id, cursor, own_connector_id=self.connector_id, accept_encodings=ACCEPT
        )

    def _check_remote_deletes(self, paths: list[str]) -> None:
        """Stop before a pull removes more local files than the delete limits allow."""
        if not paths:
            return
        rows = self.journal.files()
        doomed = []
        for path in paths:
            row = rows.get(path)
            if row is None or not row.base_hash or row.conflict_id:
                continue
            local = read_local(self.root, path, self.rules, row)
            if not isinstance(local, str) and local.hash == row.base_hash:
                doomed.append(path)  # unchanged here, so the pull would remove it
        tracked = sum(1 for r in rows.values() if r.base_hash)
        if self._too_many_deletes(len(doomed), tracked):
            raise SafetyStop(
                f"the server's changes would delete {len(doomed)} of {tracked} synced local "
                f"file(s) (limit {self.opts.max_deletes} files or "
                f"{self.opts.max_delete_ratio:.0%}); nothing pulled, no local file removed. "
                "Check the source; if that is intended, run again with --allow-deletes."
            )

    def _too_many_deletes(self, n: int, tracked: int) -> bool:
        ratio = n / tracked if tracked else 1.0
        return n > self.opts.max_deletes or (n >= 10 and ratio > self.opts.max_delete_ratio)

    def _apply_remote(self, path: str, event: dict[str, Any], report: Report) -> None:
        if moves.own_echo(self, self.connector_id, event):
            return
        payload = event.get("payload") or {}
        omitted = bool(payload.get("contentOmitted"))
        if event["type"] == "file.upsert" and (
            omitted or payload.get("connectorId") == self.connector_id
        ):
            row = self.journal.file(path)
            if row is not None and not row.conflict_id and row.base_hash == payload.get("hash"):
                # Our own push coming back (most of a pull after a big push): nothing
                # to write, so skip the path checks and the local read below.
                self.journal.set_remote(path, row.base_hash)
                return
        reason = self.rules.reason(path)
        if reason is not None:
            log.info("not synced (%s): remote %s left alone", reason, path)
            return
        try:
            safe_target(self.root, path)
        except UnsafePath as exc:
            log.error("%s", exc)
            return
        owner = self.local_keys.get(clash_key(path))
        if owner is not None and owner != path:
            log.error("not synced (name clash with local %s): remote %s", owner, path)
            return
        row = self.journal.file(path)
        if row is not None and row.conflict_id:
            return  # both sides stay as they are until the conflict is resolved
        if self.journal.db.execute("SELECT 1 FROM ops WHERE path = ?", (path,)).fetchone():
            return  # an unpushed local change: the pending push settles it
        local = read_local(self.root, path, self.rules, row)
        if isinstance(local, str) and local != "missing":
            log.info("not synced (%s): remote change to %s not written", local, path)
            return
        base = row.base_hash if row is not None and row.base_hash else None
        if event["type"] == "file.upsert":
            if payload.get("contentPruned"):
                # Retention removed this older version's text. A version is pruned only
                # once a newer one exists, so a later event of this feed brings the file.
                log.info("remote %s: an older version, pruned by retention; skipped", path)
                return
            digest = str(payload.get("hash"))
            content = from_wire(payload)
            if isinstance(local, str):  # missing locally
                if base is not None:
                    self._journal_local(path, None, base)  # deleted here, not yet pushed
                    return
            elif local.hash == digest:
                self.journal.set_file(
                    path, digest, digest, local.mtime_ns, local.size, None, local.inode
                )
                return
            elif local.hash != base:
                self._journal_local(path, local.content, base)
                return
            if omitted:
                # Our own push that this folder no longer holds (a rebuilt journal): the
                # feed left its content out, so it is read from the server, once.
                content = self._own_content(path, digest)
            if not isinstance(content, str) or content_hash(content) != digest:
                log.error("remote %s came without matching content; skipped", path)
                return
            self._writes.append((path, digest, to_bytes(content)))
            self.local_keys[clash_key(path)] = path
            return
        # file.delete
        if moves.rename_here(self, path, payload, local, row):
            return
        if isinstance(local, str):
            self.journal.drop_file(path)
        elif base is not None and local.hash == base:
            remove_file(self.root, path)
            self.journal.drop_file(path)
            report.deleted += 1
        else:
            self._journal_local(path, local.content, base)

    def _write_all(self, report: Report) -> None:
        """Write the files a page brought, several at once, then record them.

        Each write is fsynced before it is renamed into place, and only then is it
        journaled as in sync. On common disks a lone fsync waits for a whole journal
        commit; several in flight share commits, which makes a first pull of
        thousands of files many times faster with the same guarantee.
        """
        writes, self._writes = self._writes, []
        if not writes:
            return
        if len(writes) == 1:
            done = [atomic_write(self.root, writes[0][0], writes[0][2])]
        else:
            with ThreadPoolExecutor(WRITERS, thread_name_prefix="write") as pool:
                done = list(pool.map(lambda w: atomic_write(self.root, w[0], w[2]), writes))
        for (path, digest, _), st in zip(writes, done, strict=True):
            self.journal.set_file(path, digest, digest, st.st_mtime_ns, st.st_size, None, st.st_ino)
            report.written += 1

    def _own_content(self, path: str, digest: str) -> str | None:
        """The content of ``path`` if the server still holds ``digest`` there.

        When it holds something newer, a later event of the feed carries that.
        """
        try:
            record = self.client.file(self.source_id, path, ACCEPT)
        except ApiError as exc:
            log.info("own change to %s not fetched back (%s)", path, exc.code)
            return None
        content = from_wire(record)
        if record.get("hash") != digest or not isinstance(content, str):
            return None
        return content

    def _journal_local(self, path: str, content: str | None, base: str | None) -> None:
        """A local change found while pulling: push it with the base it was made on."""
        if content is None and base is not None:
            local = read_local(self.root, path, self.rules, None)
            if not isinstance(local, str):
                content = local.content
        if content is None:
            op = NewOp(path, True, None, None, base)
        else:
            op = NewOp(path, False, content, content_hash(content), base)
        now = time.time()
        self.journal.db.execute(
            "INSERT INTO ops(op_id, path, is_delete, content, content_hash, base_hash, "
            "mtime_ns, size, created) VALUES (?, ?, ?, ?, ?, ?, 0, -1, ?)",
            (
                f"op-{os.urandom(16).hex()}",
                op.path,
                int(op.is_delete),
                op.content,
                op.content_hash,
                op.base_hash,
                now,
            ),
        )
        log.info("local change to %s kept; it will be pushed on base %s", path, base)

    # ---- one full reconcile ----------------------------------------------------

    def open_conflicts(self) -> dict[str, str]:
        return {str(c["relativePath"]): str(c["id"]) for c in self.client.conflicts(self.source_id)}

    def _conflicts_now(self, report: Report) -> dict[str, str]:
        """The source's open conflicts, asked of the server only when they may have changed.

        A conflict opens or closes only with an event on the source, which a
        bidirectional pull reads up to the end: when the cursor is where the last
        answer was taken and this run pushed nothing, that answer (kept in the
        journal) still holds, so a no-op rerun spends no request on it.
        """
        at = f"{self.source_id}@{self.journal.cursor}"
        settled = self.mode == "bidirectional" and not self.stop.is_set()
        quiet = settled and not report.pushed and not report.rejected
        if quiet and self.journal.get_meta("conflicts_at") == at:
            kept: dict[str, str] = json.loads(self.journal.get_meta("conflicts") or "{}")
            return kept
        found = self.open_conflicts()
        self.journal.set_meta("conflicts", json.dumps(found, sort_keys=True))
        self.journal.set_meta("conflicts_at", at)
        return found

    def reconcile(self, report: Report) -> None:
        """Scan, push, pull, and push what the pull found, until nothing moves."""
        result = self.scan_and_journal()
        report.skipped = result.skipped
        for _ in range(3):
            self.push_pending(report)
            if report.unreachable or report.paused:
                return
            self.pull(report)
            if not self.journal.pending_count():
                return

    def once(self) -> int:
        report = Report()
        try:
            try:
                self.ensure_registered()
                self.heartbeat()
                # A paused source takes no pushes: journal what changed, say so (exit 4).
                report.paused = self.source is not None and self.source.get("status") == "paused"
            except Unreachable as exc:
                if not self.source_id:
                    log.error("server unreachable and this folder is not registered: %s", exc)
                    return EXIT_UNREACHABLE
                log.warning("server unreachable (%s); journaling changes only", exc)
                report.unreachable = True
            if report.unreachable or report.paused:
                report.skipped = self.scan_and_journal().skipped
            else:
                self.reconcile(report)
            self.journal.compact()
            return self._verdict(report)
        except ApiError as exc:
            hint = " (log in again: `localsync login`)" if exc.status == 401 else ""
            log.error("the server refused this connector: %s%s", exc, hint)
            return EXIT_NOT_CONVERGED
        except SafetyStop as exc:
            log.error("stopped: %s", exc)
            return EXIT_SAFETY_STOP
        except Unreachable as exc:
            log.error("server unreachable: %s; changes stay journaled", exc)
            return EXIT_UNREACHABLE

    def _verdict(self, report: Report) -> int:
        pending = self.journal.pending_count()
        for path, reason in sorted(report.skipped.items()):
            if reason not in ("built-in ignore",):
                print(f"not synced ({reason}): {path}", file=sys.stderr)
        if report.unreachable:
            log.error("server unreachable: %d change(s) journaled for later", pending)
            return EXIT_UNREACHABLE
        if report.paused:
            log.error("source is paused: %d change(s) journaled until it resumes", pending)
            return EXIT_PAUSED
        conflicts = self._conflicts_now(report)
        for path, cid in sorted(conflicts.items()):
            log.error("open conflict on %s (%s): resolve it, then sync again", path, cid)
        log.info(
            "pushed %d, wrote %d, deleted %d, pending %d, conflicts %d, rejected %d",
            report.pushed,
            report.written,
            report.deleted,
            pending,
            len(conflicts),
            len(report.rejected),
        )
        if conflicts or report.rejected or pending:
            return EXIT_NOT_CONVERGED
        return EXIT_OK


FAULT_ENV = "LOCALSYNC_CONNECTOR_FAULT"


def _fault(point: str) -> None:
    """The crash-test hook of the module docstring: SIGKILL here when asked to."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _wire_item(op: Op) -> dict[str, Any]:
    item: dict[str, Any] = {
        "operationId": op.op_id,
        "relativePath": op.path,
        "baseHash": op.base_hash,
        "isDelete": op.is_delete,
    }
    if op.content is not None:
        item.update(wire_fields(op.path, op.content), contentHash=op.content_hash)
    elif not op.is_delete:  # a move, content unchanged (connector.moves)
        item["contentHash"] = op.content_hash
    return item


def _batches(ops: list[Op]) -> Iterator[list[Op]]:
    """Batches of at most 100 items and 32 MB, never splitting a rename pair."""
    batch: list[Op] = []
    size = 0
    for op in ops:
        weight = len(op.content or "") * 4 // 3 + 512
        if batch and (len(batch) >= MAX_BATCH_ITEMS or size + weight > MAX_BATCH_BYTES):
            carry: list[Op] = []
            last = batch[-1]
            if last.is_delete and not op.is_delete and op.content_hash == last.base_hash:
                carry = [batch.pop()]
            if batch:
                yield batch
            batch, size = carry, sum(len(o.content or "") for o in carry)
        batch.append(op)
        size += weight
    if batch:
        yield batch


def _progress(total: int, label: str) -> Callable[[int], None]:
    """A rich progress bar on a terminal, plain log lines otherwise; call with -1 to end."""
    if sys.stderr.isatty() and total > MAX_BATCH_ITEMS:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(label, total=total)

        def advance(n: int) -> None:
            if n < 0:
                bar.stop()
            else:
                bar.advance(task, n)

        return advance
    done = 0

    def log_line(n: int) -> None:
        nonlocal done
        if n > 0:
            done += n
            if total > MAX_BATCH_ITEMS:
                log.info("%s: %d/%d", label, done, total)

    return log_line
