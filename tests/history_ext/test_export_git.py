"""``localsync export-git`` as an operator runs it, checked with git's own tools."""

import itertools
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from backend.cli import main
from tests.factories import Api, delete, sha, upsert

LOCALSYNC = str(Path(sys.executable).with_name("localsync"))
AUTHORS = {"raven": "Raven", "merge": "Local Sync"}


def _export(api: Api, *args: str, url: str | None = None) -> Result:
    """The command in-process (starting a Python per run costs seconds on a busy machine)."""
    database = url or api.settings.resolved_database_url()
    return CliRunner().invoke(main, ["export-git", *args, "--database-url", database])


def _export_as_a_user(api: Api, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALSYNC_")}
    url = api.settings.resolved_database_url()
    return subprocess.run(
        [LOCALSYNC, "export-git", *args, "--database-url", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _commits(repo: Path) -> list[dict[str, str]]:
    """Oldest first: id, author name and address, date, and the path and file version trailers."""
    fields = "%H%x1f%an%x1f%ae%x1f%at%x1f%(trailers:key=Local-Sync-Path,valueonly,separator=)"
    fields += "%x1f%(trailers:key=Local-Sync-File-Version,valueonly,separator=)%x1e"
    out = _git(repo, "log", "--reverse", f"--format={fields}", "main")
    keys = ("id", "name", "email", "time", "path", "seq")
    return [
        dict(zip(keys, record.strip("\n").split("\x1f"), strict=True))
        for record in out.split("\x1e")
        if record.strip()
    ]


def _history(api: Api) -> tuple[str, dict[str, list[dict[str, Any]]], str]:
    """A source with creates, Raven edits, an auto-merge, a resolved conflict and a delete."""
    laptop = api.connector("Laptop <Home>")
    sid = api.source(connector=laptop)["id"]
    one = {"connectorId": laptop["id"]}
    api.push(sid, upsert("a.md", "a1\nx\ny\n"), upsert("dir/b c.md", "b1\n"), **one)
    api.update(sid, "a.md", "A1\nx\ny\n", base=sha("a1\nx\ny\n"))
    merged = api.push(sid, upsert("a.md", "a1\nx\nY\n", base=sha("a1\nx\ny\n")), **one)
    assert merged["results"][0]["status"] == "merged"
    clash = api.open_conflict(sid, "c.md")
    api.resolve(clash["id"], "keep_local")
    api.push(sid, delete("dir/b c.md", sha("b1\n")), **one)
    paths = ["a.md", "dir/b c.md", "c.md"]
    history = {p: list(reversed(api.call("sources/history", _ask(sid, p)))) for p in paths}
    for versions in history.values():
        for version, following in itertools.pairwise(versions):
            version["_merged"] = (
                version["origin"] != "merge"
                and following["origin"] == "merge"
                and following["operationId"] == version["operationId"]
            )
    return sid, history, laptop["name"]


def _ask(sid: str, path: str) -> dict[str, Any]:
    return {"sourceId": sid, "relativePath": path, "includeContent": True, "limit": 500}


def test_export_writes_one_commit_per_version_as_history_has_them(api: Api, tmp_path: Path) -> None:
    sid, history, laptop = _history(api)
    repo = tmp_path / "export"

    done = _export_as_a_user(api, sid, str(repo))

    assert done.returncode == 0, done.stderr
    _git(repo, "fsck", "--strict", "--no-dangling")
    commits = _commits(repo)
    assert len(commits) == sum(len(v) for v in history.values())
    for path, versions in history.items():
        mine = [c for c in commits if c["path"] == path]
        assert [int(c["seq"]) for c in mine] == [v["seq"] for v in versions]
        for commit, version in zip(mine, versions, strict=True):
            _check_commit(repo, commit, version, path, laptop)
    # The working tree is the source as it is now: the deleted file is gone.
    assert sorted(p.name for p in repo.iterdir() if p.name != ".git") == ["a.md", "c.md"]
    assert (repo / "a.md").read_text() == "A1\nx\nY\n"


def _check_commit(
    repo: Path, commit: dict[str, str], version: dict[str, Any], path: str, laptop: str
) -> None:
    origin = version["origin"]
    expected = AUTHORS.get(origin) or (laptop if version["connectorId"] else "connector")
    assert commit["name"] == expected.replace("<", "").replace(">", "")
    assert commit["email"].endswith("@localsync.invalid")
    recorded = datetime.fromisoformat(version["recordedAt"].replace("Z", "+00:00"))
    assert int(commit["time"]) == int(recorded.timestamp())
    tree = _git(repo, "ls-tree", "-r", "--name-only", commit["id"]).splitlines()
    changed = _git(repo, "diff-tree", "--root", "--no-commit-id", "-r", "--name-only", commit["id"])
    if version["conflictId"] or _merged_next(version):
        assert changed.strip() == ""  # never current: the tree does not move
    elif version["deleted"]:
        assert path not in tree
    else:
        assert _git(repo, "show", f"{commit['id']}:{path}") == version["content"]


def _merged_next(version: dict[str, Any]) -> bool:
    """The pushed edit the server merged: its content went into the next (merge) version."""
    return bool(version.get("_merged"))


def test_incremental_export_adds_only_the_new_commits(api: Api, tmp_path: Path) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("n.md", "one\n"))
    repo = tmp_path / "inc"
    assert _export(api, sid, str(repo)).exit_code == 0
    first = _commits(repo)

    api.push(sid, upsert("n.md", "two\n", base=sha("one\n")), upsert("m.md", "m\n"))
    added = _export(api, sid, str(repo), "--incremental")
    assert added.exit_code == 0, added.output
    second = _commits(repo)
    assert second[: len(first)] == first and len(second) == len(first) + 2
    assert (repo / "n.md").read_text() == "two\n" and (repo / "m.md").read_text() == "m\n"

    again = _export(api, sid, str(repo), "--incremental")
    assert again.exit_code == 0 and "nothing new" in again.stderr
    assert _commits(repo) == second
    _git(repo, "fsck", "--strict", "--no-dangling")
    # The same history exported in one go gives the very same commits.
    whole = tmp_path / "whole"
    assert _export(api, sid, str(whole)).exit_code == 0
    assert _commits(whole) == second


def test_export_refuses_what_is_not_its_own(api: Api, tmp_path: Path) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("n.md", "one\n"))

    unknown = _export(api, "no-such-source", str(tmp_path / "x"))
    assert unknown.exit_code != 0 and "unknown source id" in unknown.stderr
    assert not (tmp_path / "x").exists()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine\n")
    refused = _export(api, sid, str(busy))
    assert refused.exit_code != 0 and "not empty and is not a git repository" in refused.stderr
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]

    ours = tmp_path / "ours"
    assert _export(api, sid, str(ours)).exit_code == 0
    twice = _export(api, sid, str(ours))
    assert twice.exit_code != 0 and "--incremental" in twice.stderr
    other = api.source()["id"]
    foreign = _export(api, other, str(ours), "--incremental")
    assert foreign.exit_code != 0 and "another source" in foreign.stderr

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    _git(theirs, "init", "-q")
    (theirs / "x").write_text("x\n")
    _git(theirs, "add", "x")
    _git(theirs, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "x")
    alien = _export(api, sid, str(theirs), "--incremental")
    assert alien.exit_code != 0 and "not a Local Sync export" in alien.stderr


def test_export_refuses_a_database_it_cannot_read(api: Api, tmp_path: Path) -> None:
    missing = _export(api, "s", str(tmp_path / "a"), url=f"sqlite:///{tmp_path / 'nope.db'}")
    assert missing.exit_code != 0 and "no database at" in missing.stderr
    assert not (tmp_path / "nope.db").exists()
    (tmp_path / "empty.db").write_bytes(b"")
    empty = _export(api, "s", str(tmp_path / "b"), url=f"sqlite:///{tmp_path / 'empty.db'}")
    assert empty.exit_code != 0 and "cannot read the database" in empty.stderr


def test_export_leaves_out_paths_git_cannot_hold(api: Api, tmp_path: Path) -> None:
    """A synced ``.git/hooks/...`` must never become part of the export's own repository."""
    sid = api.source()["id"]
    hostile = [".git/hooks/post-checkout", "notes/.GIT/config", "a/.git. /x.md"]
    pushed = api.push(sid, upsert("ok.md", "ok\n"), *(upsert(p, "#!/bin/sh\n") for p in hostile))
    accepted = [r["relativePath"] for r in pushed["results"] if r["status"] == "applied"]
    repo = tmp_path / "repo"

    done = _export(api, sid, str(repo))

    assert done.exit_code == 0, done.output
    for path in set(accepted) - {"ok.md"}:
        assert f"not exported (git cannot hold the path): {path}" in done.stderr
    _git(repo, "fsck", "--strict", "--no-dangling")
    assert _git(repo, "ls-tree", "-r", "--name-only", "main").split() == ["ok.md"]
    assert not (repo / ".git" / "hooks" / "post-checkout").exists()
    assert len(_commits(repo)) == len(accepted)


def test_export_writes_attachments_byte_exact(api: Api, tmp_path: Path) -> None:
    from tests.attachment_data import attachment, digest, pdf, png

    sid = api.source()["id"]
    api.push(sid, attachment("img/a.png", png(shade=1)))
    api.push(sid, attachment("img/a.png", png(shade=2), base=digest(png(shade=1))))
    api.push(sid, attachment("doc.pdf", pdf(), content_type="application/pdf"))
    repo = tmp_path / "export"
    done = _export(api, sid, str(repo))
    assert done.exit_code == 0, done.output
    _git(repo, "fsck", "--strict", "--no-dangling")
    assert (repo / "img/a.png").read_bytes() == png(shade=2)
    assert (repo / "doc.pdf").read_bytes() == pdf()
    first = subprocess.run(
        ["git", "-C", str(repo), "show", "HEAD~2:img/a.png"], capture_output=True, check=True
    ).stdout
    assert first == png(shade=1)
