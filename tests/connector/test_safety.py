"""Safety stops: not syncing is never deleting, and suspicious deletes stop the run."""

import os
import shutil
from pathlib import Path

from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api


def live_paths(api: Api, folder: Path) -> set[str]:
    return {f["relativePath"] for f in api.files(source_id(folder))}


def test_ignored_excluded_too_large_never_delete(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "keep.md", "keep\n")
    write(a, "drafts/d.md", "draft\n")
    write(a, "big.md", "small for now\n")
    write(a, "vendor/v.md", "vendored\n")
    assert syncer.once(a).exit_code == 0
    assert live_paths(api, a) == {"keep.md", "drafts/d.md", "big.md", "vendor/v.md"}

    write(a, ".gitignore", "vendor/\n")
    write(a, "big.md", "x" * 5000)
    result = syncer.once(a, "--exclude", "drafts/**", "--max-file-size", "1000")
    assert result.exit_code == 0, result.output
    assert "not synced (excluded): drafts/d.md" in result.output
    assert "not synced (ignored by .gitignore): vendor/v.md" in result.output
    assert "not synced (too large" in result.output and "big.md" in result.output
    # Nothing deleted on the server, nothing deleted on disk.
    assert live_paths(api, a) == {"keep.md", "drafts/d.md", "big.md", "vendor/v.md"}
    assert set(tree(a)) == {"keep.md", "drafts/d.md", "big.md", "vendor/v.md", ".gitignore"}
    # Even removing an excluded file locally sends no delete.
    (a / "drafts/d.md").unlink()
    assert syncer.once(a, "--exclude", "drafts/**", "--max-file-size", "1000").exit_code == 0
    assert "drafts/d.md" in live_paths(api, a)


def test_emptied_root_sends_no_deletes(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(3):
        write(a, f"n{i}.md", f"{i}\n")
    assert syncer.once(a).exit_code == 0
    for i in range(3):
        (a / f"n{i}.md").unlink()
    result = syncer.once(a)
    assert result.exit_code == 2
    assert "empty" in result.output and "--allow-deletes" in result.output
    assert live_paths(api, a) == {"n0.md", "n1.md", "n2.md"}
    assert syncer.once(a, "--allow-deletes").exit_code == 0
    assert live_paths(api, a) == set()


def test_missing_root_stops(syncer: Syncer, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "n\n")
    assert syncer.once(a).exit_code == 0
    shutil.rmtree(a)
    result = syncer.once(a)
    assert result.exit_code == 2
    assert "missing" in result.output
    assert not a.exists()  # the connector does not recreate it


def test_mass_delete_stops_until_allowed(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(60):
        write(a, f"f/{i:02}.md", f"{i}\n")
    assert syncer.once(a).exit_code == 0
    for i in range(55):
        (a / f"f/{i:02}.md").unlink()
    result = syncer.once(a)
    assert result.exit_code == 2
    assert "would delete 55 of 60" in result.output
    assert len(live_paths(api, a)) == 60
    assert syncer.once(a, "--allow-deletes").exit_code == 0
    assert len(live_paths(api, a)) == 5


def test_ratio_threshold(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(40):
        write(a, f"{i:02}.md", f"{i}\n")
    assert syncer.once(a).exit_code == 0
    for i in range(12):  # 30% of 40, under the 50-file limit
        (a / f"{i:02}.md").unlink()
    assert syncer.once(a).exit_code == 2
    assert len(live_paths(api, a)) == 40


def test_journal_lost_deletes_nothing_and_conflicts_differences(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "same.md", "same\n")
    write(a, "edited.md", "before\n")
    write(a, "gone.md", "will vanish locally\n")
    assert syncer.once(a).exit_code == 0
    (a / ".localsync" / "journal.db").unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(a / ".localsync" / "journal.db") + suffix).unlink(missing_ok=True)
    write(a, "edited.md", "after, journal lost\n")
    (a / "gone.md").unlink()
    result = syncer.once(a)
    assert result.exit_code == 1, result.output  # the difference is a conflict to decide
    sid = source_id(a)
    assert {f["relativePath"] for f in api.files(sid)} == {"same.md", "edited.md", "gone.md"}
    (conflict,) = api.conflicts(sid)
    assert conflict["relativePath"] == "edited.md"
    assert conflict["reason"] == "no_base"
    assert len(api.history(sid, "same.md")) == 1
    # Nothing was deleted anywhere: the vanished file comes back from the server.
    assert (a / "gone.md").read_text() == "will vanish locally\n"
    assert (a / "edited.md").read_text() == "after, journal lost\n"


def test_corrupt_journal_is_set_aside(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "n\n")
    assert syncer.once(a).exit_code == 0
    journal = a / ".localsync" / "journal.db"
    for suffix in ("-wal", "-shm"):
        Path(str(journal) + suffix).unlink(missing_ok=True)
    journal.write_bytes(b"this is not a database" * 100)
    result = syncer.once(a)
    assert result.exit_code == 0, result.output
    assert "corrupt" in result.output
    assert any(p.name.startswith("journal.db.corrupt-") for p in (a / ".localsync").iterdir())
    assert len(api.history(source_id(a), "n.md")) == 1


def test_remote_path_through_escaping_symlink_is_refused(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, outside = tmp_path / "a", tmp_path / "outside"
    a.mkdir()
    outside.mkdir()
    write(a, "n.md", "n\n")
    assert syncer.once(a).exit_code == 0
    os.symlink(outside, a / "link")
    api.update(source_id(a), "link/evil.md", "escape attempt\n")
    result = syncer.once(a)
    assert "refusing path 'link/evil.md'" in result.output
    assert list(outside.iterdir()) == []


def test_paused_source_keeps_journaling(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "v1\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    api.call("sources/pause", {"sourceId": sid})
    write(a, "n.md", "v2\n")
    result = syncer.once(a)
    assert result.exit_code == 4, result.output
    assert "paused" in result.output
    assert api.file(sid, "n.md")["content"] == "v1\n"
    api.call("sources/resume", {"sourceId": sid})
    assert syncer.once(a).exit_code == 0
    assert api.file(sid, "n.md")["content"] == "v2\n"
    assert len(api.history(sid, "n.md")) == 2
