"""A rescan trusts the journal's (mtime_ns, size, inode) and reads only what changed;
the connector's own pushes come back from the server without their content."""

import gc
import os
from pathlib import Path

from connector.collector import collector_paused
from connector.engine import Engine, Options
from connector.journal import Journal
from tests.conftest import LiveServer
from tests.connector.conftest import write
from tests.factories import Api, sha


def run_once(folder: Path, url: str, api: Api) -> Engine:
    """One ``--once`` reconcile in this process, so the scan it made can be looked at."""
    opts = Options(
        root=folder, server=url, token=api.token, workspace=api.workspace, source_name="Notes"
    )
    engine = Engine(opts)
    try:
        assert engine.once() == 0
    finally:
        engine.close()
    return engine


def hashed(engine: Engine) -> set[str]:
    assert engine.last_scan is not None
    return set(engine.last_scan.hashed)


def test_a_rescan_hashes_only_what_changed(
    live_server: LiveServer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    names = [f"d{i % 3}/n{i}.md" for i in range(12)]
    for name in names:
        write(a, name, f"note {name}\n")
    assert hashed(run_once(a, live_server.url, api)) == set(names)
    assert hashed(run_once(a, live_server.url, api)) == set()

    write(a, "d0/n0.md", "edited\n")  # new content
    write(a, "new.md", "new\n")  # new file
    st = (a / "d1/n1.md").stat()
    os.utime(a / "d1/n1.md", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touched
    # Same size and mtime, another inode: replaced by a copy made elsewhere (mv, rsync -t).
    target = a / "d2/n2.md"
    st = target.stat()
    replacement = a / "d2/.n2.tmp"
    replacement.write_text("note d2/n9.md\n")  # same length, other bytes
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replacement, target)
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)

    engine = run_once(a, live_server.url, api)
    assert hashed(engine) == {"d0/n0.md", "new.md", "d1/n1.md", "d2/n2.md"}
    sid = engine.source_id
    assert api.file(sid, "d2/n2.md")["content"] == "note d2/n9.md\n"
    assert api.file(sid, "d0/n0.md")["content"] == "edited\n"
    # The journal now holds every file's current stat, so the next rescan reads nothing.
    journal = Journal(a / ".localsync" / "journal.db")
    try:
        rows = journal.files()
    finally:
        journal.close()
    for name in [*names, "new.md"]:
        st = (a / name).stat()
        row = rows[name]
        assert (row.mtime_ns, row.size, row.inode) == (st.st_mtime_ns, st.st_size, st.st_ino)
        assert row.base_hash == row.remote_hash == sha((a / name).read_text())
    assert hashed(run_once(a, live_server.url, api)) == set()


def test_a_rerun_with_nothing_to_do_writes_nothing(
    live_server: LiveServer, api: Api, tmp_path: Path
) -> None:
    """The usual rerun reads the folder and the journal and leaves both as they were."""
    a = tmp_path / "a"
    a.mkdir()
    for i in range(5):
        write(a, f"d/n{i}.md", f"note {i}\n")
    run_once(a, live_server.url, api)
    state = a / ".localsync"

    def footprint() -> dict[str, tuple[int, int, int, bytes]]:
        out = {}
        for name in ("config.json", "journal.db"):
            st = (state / name).stat()
            out[name] = (st.st_ino, st.st_mtime_ns, st.st_size, (state / name).read_bytes())
        return out

    before = footprint()
    engine = run_once(a, live_server.url, api)
    assert hashed(engine) == set()
    assert footprint() == before
    # A real change is still written: the journal records it.
    write(a, "d/n0.md", "edited\n")
    run_once(a, live_server.url, api)
    assert footprint()["journal.db"] != before["journal.db"]


def test_a_drained_journal_gives_back_the_space_of_delivered_content(
    live_server: LiveServer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(150):
        write(a, f"n{i:03}.md", f"{i}\n" + "text " * 2000)  # 10 KB each, 1.5 MB in all
    run_once(a, live_server.url, api)
    journal = Journal(a / ".localsync" / "journal.db")
    try:
        free = journal.db.execute("PRAGMA freelist_count").fetchone()[0]
        pages = journal.db.execute("PRAGMA page_count").fetchone()[0]
        assert journal.pending_count() == 0 and len(journal.files()) == 150
    finally:
        journal.close()
    assert free < 256 and pages * 4096 < 1_000_000, (free, pages)


def test_own_pushes_come_back_without_content_and_write_nothing(
    live_server: LiveServer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(5):
        write(a, f"n{i}.md", f"note {i}\n")
    before = {p.name: p.stat().st_mtime_ns for p in a.glob("*.md")}
    engine = run_once(a, live_server.url, api)
    sid, me = engine.source_id, engine.connector_id

    page = api.call("sources/deltas", {"sourceId": sid, "cursor": 0, "ownConnectorId": me})
    upserts = [e for e in page["events"] if e["type"] == "file.upsert"]
    assert len(upserts) == 5
    for event in upserts:
        assert event["payload"]["content"] is None
        assert event["payload"]["contentOmitted"] is True
    # Another reader (no ownConnectorId) still gets the content.
    full = api.call("sources/deltas", {"sourceId": sid, "cursor": 0})
    assert all(e["payload"]["content"] for e in full["events"] if e["type"] == "file.upsert")

    # Nothing was written back, and the journal knows the server holds what we pushed.
    assert {p.name: p.stat().st_mtime_ns for p in a.glob("*.md")} == before
    journal = Journal(a / ".localsync" / "journal.db")
    try:
        rows, cursor, pending = journal.files(), journal.cursor, journal.pending_count()
    finally:
        journal.close()
    assert cursor == page["nextCursor"] and pending == 0
    for i in range(5):
        row = rows[f"n{i}.md"]
        assert row.base_hash == row.remote_hash == sha(f"note {i}\n")

    # An own push this folder has lost since (journal rebuilt, file gone) is fetched back
    # on its own: the feed left its content out, the server still has it.
    (a / "n0.md").unlink()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{a}/.localsync/journal.db{suffix}").unlink(missing_ok=True)
    engine = run_once(a, live_server.url, api)
    assert engine.source_id == sid
    assert (a / "n0.md").read_text() == "note 0\n"


def test_the_collector_is_left_as_it_was_found() -> None:
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with collector_paused():
                assert not gc.isenabled()
                raise KeyError("boom")
        except KeyError:
            pass
        assert gc.isenabled() is enabled
    gc.enable()
