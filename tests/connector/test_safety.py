"""Safety stops: not syncing is never deleting, and suspicious deletes stop the run."""

import os
import shutil
import unicodedata
from pathlib import Path

import pytest

from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api, delete, sha, upsert


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


def test_remote_mass_delete_stops_until_allowed(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(60):
        write(a, f"f/{i:02}.md", f"{i}\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    api.push(sid, *(delete(f"f/{i:02}.md", sha(f"{i}\n")) for i in range(55)))
    for _ in range(2):  # the cursor did not move: the stop holds on every run
        result = syncer.once(a)
        assert result.exit_code == 2, result.output
        assert "would delete 55 of 60" in result.output
        assert "--allow-deletes" in result.output
        assert len(tree(a)) == 60
    result = syncer.once(a, "--allow-deletes")
    assert result.exit_code == 0, result.output
    assert tree(a) == {f"f/{i:02}.md": f"{i}\n" for i in range(55, 60)}


def test_remote_mass_delete_on_a_later_delta_page_stops_before_any_page(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(60):
        write(a, f"f/{i:02}.md", f"{i}\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    for batch in range(5):  # a full page of creations first...
        api.push(sid, *(upsert(f"new/{batch}-{i:02}.md", "n\n") for i in range(100)))
    api.push(sid, *(delete(f"f/{i:02}.md", sha(f"{i}\n")) for i in range(55)))  # ...then deletes
    result = syncer.once(a)
    assert result.exit_code == 2, result.output
    assert "would delete 55 of 60" in result.output
    assert set(tree(a)) == {f"f/{i:02}.md" for i in range(60)}  # not even page one applied
    assert syncer.once(a, "--allow-deletes").exit_code == 0
    assert len(tree(a)) == 505


def test_remote_delete_ratio_threshold(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(40):
        write(a, f"{i:02}.md", f"{i}\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    api.push(sid, *(delete(f"{i:02}.md", sha(f"{i}\n")) for i in range(12)))  # 30% of 40
    result = syncer.once(a)
    assert result.exit_code == 2, result.output
    assert "would delete 12 of 40" in result.output
    assert len(tree(a)) == 40
    # A few remote deletes are ordinary and go through.
    b = tmp_path / "b"
    b.mkdir()
    for i in range(40):
        write(b, f"{i:02}.md", f"{i}\n")
    assert syncer.once(b, "--source-name", "Other").exit_code == 0
    other = source_id(b)
    api.push(other, *(delete(f"{i:02}.md", sha(f"{i}\n")) for i in range(3)))
    result = syncer.once(b, "--source-name", "Other")
    assert result.exit_code == 0, result.output
    assert len(tree(b)) == 37


def test_remote_deletes_of_locally_edited_files_do_not_count(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    for i in range(60):
        write(a, f"{i:02}.md", f"{i}\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    api.push(sid, *(delete(f"{i:02}.md", sha(f"{i}\n")) for i in range(55)))
    for i in range(50):  # edited here: a pull keeps these and pushes them again
        write(a, f"{i:02}.md", f"{i} edited locally\n")
    result = syncer.once(a)
    assert "would delete" not in result.output
    assert len(tree(a)) == 55


def test_case_and_unicode_form_clashes_are_reported_not_synced(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    nfc, nfd = unicodedata.normalize("NFC", "café.md"), unicodedata.normalize("NFD", "café.md")
    assert nfc != nfd
    write(a, "ok.md", "fine\n")
    write(a, "Note.md", "upper\n")
    write(a, "note.md", "lower\n")
    write(a, nfc, "composed\n")
    write(a, nfd, "decomposed\n")
    result = syncer.once(a)
    assert result.exit_code == 0, result.output
    assert "not synced (name clash (case or Unicode form) with note.md): Note.md" in result.output
    assert "not synced (name clash (case or Unicode form) with Note.md): note.md" in result.output
    assert result.output.count("name clash") >= 4
    assert live_paths(api, a) == {"ok.md"}
    # A remote name that clashes with a local file is not written either.
    api.update(source_id(a), "OK.md", "remote twin\n")
    result = syncer.once(a)
    assert "name clash with local ok.md" in result.output
    assert (a / "ok.md").read_text() == "fine\n"
    assert not any(p.name == "OK.md" for p in a.iterdir())
    # Untangled locally, the names sync.
    (a / "Note.md").unlink()
    (a / nfd).unlink()
    assert syncer.once(a).exit_code == 0
    assert {"note.md", nfc} <= live_paths(api, a)


@pytest.mark.parametrize("mode", ["import_only", "local_to_cloud"])
def test_one_way_modes_never_pull(syncer: Syncer, api: Api, tmp_path: Path, mode: str) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "from-a.md", "a\n")
    assert syncer.once(a, "--mode", mode).exit_code == 0
    sid = source_id(a)
    assert api.sources()[0]["mode"] == mode
    # The server refuses Raven-side edits on a one-way source...
    refused = api.post(
        "sources/file/update",
        {"sourceId": sid, "relativePath": "raven.md", "content": "x\n", "baseHash": None},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "MODE_FORBIDS_EDIT"
    # ...and what another folder pushes to it never comes down into this one.
    write(b, "from-b.md", "b\n")
    assert syncer.once(b).exit_code == 0
    assert source_id(b) == sid
    assert live_paths(api, a) == {"from-a.md", "from-b.md"}
    write(a, "from-a.md", "a, edited\n")
    result = syncer.once(a)
    assert result.exit_code == 0, result.output
    assert tree(a) == {"from-a.md": "a, edited\n"}
    assert tree(b) == {"from-b.md": "b\n"}
    assert api.file(sid, "from-a.md")["content"] == "a, edited\n"
