"""Garbage collection through the REST extension and the CLI, on the session's real server."""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.models import File, Version
from backend.retention.errors import VersionPruned
from backend.retention.marks import check_not_pruned, pruned_ids
from backend.settings import Settings
from tests.conftest import LiveServer
from tests.factories import Api, assert_error, sha, upsert


def _edits(api: Api, source_id: str, path: str, count: int) -> list[str]:
    """``count`` successive versions of ``path``; returns their contents, oldest first."""
    contents, base = [], None
    for n in range(1, count + 1):
        content = f"# {path}\nedit {n} of {count} {source_id}\n"
        api.push(source_id, upsert(path, content, base=base))
        contents.append(content)
        base = sha(content)
    return contents


def _statuses(api: Api, source_id: str, path: str) -> dict[int, dict[str, Any]]:
    rows = api.call("sources/history/retention", {"sourceId": source_id, "relativePath": path})
    return {r["seq"]: r for r in rows}


def _blob_exists(engine: Engine, content: str) -> bool:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT 1 FROM blobs WHERE hash = :h"), {"h": sha(content)})
        return row.first() is not None


def test_keep_last_prunes_older_versions_but_never_a_pin(
    api: Api, settings: Settings, db_engine: Engine, localsync: Callable[..., Result]
) -> None:
    source = api.source()["id"]
    contents = _edits(api, source, "notes/a.md", 8)
    policy = {"kind": "last", "keepLast": 3}
    answer = api.call("sources/retention", {"sourceId": source, "policy": policy})
    assert answer == {"sourceId": source, "kind": "last", "keepLast": 3, "maxAgeDays": None}
    assert api.call("sources/retention", {"sourceId": source})["kind"] == "last"
    pin = {"sourceId": source, "relativePath": "notes/a.md", "seq": 2}
    assert api.call("sources/history/pin", pin)["pinned"] is True

    url = settings.resolved_database_url()
    dry = localsync("gc", "--dry-run", "--source", source, database_url=url)
    assert dry.exit_code == 0, dry.output
    assert sum(line.startswith("would prune ") for line in dry.output.splitlines()) == 4
    assert not any(s["pruned"] for s in _statuses(api, source, "notes/a.md").values())

    done = localsync("gc", "--source", source, database_url=url)
    assert done.exit_code == 0, done.output
    assert "freed 4 blobs" in done.output and ", 0 left for the next run;" in done.output
    statuses = _statuses(api, source, "notes/a.md")
    assert {seq for seq, s in statuses.items() if s["pruned"]} == {1, 3, 4, 5}
    assert statuses[2]["pinned"] and not statuses[2]["pruned"]
    assert all(statuses[seq]["hash"] == sha(contents[seq - 1]) for seq in statuses)
    for seq in (1, 3, 4, 5):
        assert not _blob_exists(db_engine, contents[seq - 1])
    for seq in (2, 6, 7, 8):
        assert _blob_exists(db_engine, contents[seq - 1])

    # The documented history keeps its shape and every entry; pruned content is null.
    history = api.history(source, "notes/a.md")
    assert [v["seq"] for v in history] == [8, 7, 6, 5, 4, 3, 2, 1]
    gone = api.post(
        "sources/history/content", {"sourceId": source, "relativePath": "notes/a.md", "seq": 1}
    )
    assert_error(gone, 410, "VERSION_PRUNED")
    kept = api.call(
        "sources/history/content", {"sourceId": source, "relativePath": "notes/a.md", "seq": 2}
    )
    assert kept["content"] == contents[1]
    assert_error(api.post("sources/history/pin", {**pin, "seq": 1}), 410, "VERSION_PRUNED")

    with Session(db_engine) as session:
        file_id = session.exec(
            select(File.id).where(File.source_id == source, File.relative_path == "notes/a.md")
        ).one()
        with pytest.raises(VersionPruned):
            check_not_pruned(session, file_id, sha(contents[0]))
        check_not_pruned(session, file_id, sha(contents[1]))
        versions = session.exec(select(Version).where(Version.file_id == file_id))
        seqs = {int(v.id or 0): v.seq for v in versions}
        assert {seqs[i] for i in pruned_ids(session, list(seqs))} == {1, 3, 4, 5}

    again = api.call("sources/gc", {"sourceId": source})
    assert again["versionsPruned"] == 0
    # Unpinned, seq 2 goes at the next collection.
    api.call("sources/history/pin", {**pin, "pinned": False})
    assert api.call("sources/gc", {"sourceId": source})["versionsPruned"] == 1
    assert api.file(source, "notes/a.md")["content"] == contents[-1]


def test_nothing_an_open_conflict_needs_is_pruned(api: Api, db_engine: Engine) -> None:
    source = api.source()["id"]
    clash = api.open_conflict(source, "notes/clash.md")
    _edits(api, source, "notes/other.md", 3)
    api.call("sources/retention", {"sourceId": source, "policy": {"kind": "last", "keepLast": 1}})
    result = api.call("sources/gc", {"sourceId": source})
    assert result["versionsPruned"] == 2  # other.md's older two; nothing of the conflict
    for side in ("base", "remote", "local"):
        assert _blob_exists(db_engine, clash[side])
    preview = api.call("sources/conflicts/preview", {"conflictId": clash["id"]})
    assert preview
    resolved = api.resolve(clash["id"], "keep_local")
    assert resolved["hash"] == sha(clash["local"])


def test_staggered_policy_on_an_aged_history(api: Api, db_engine: Engine) -> None:
    """Versions backdated over 60 days: every version of today, one a day, one a week."""
    source = api.source()["id"]
    contents = _edits(api, source, "notes/old.md", 6)
    now = datetime.now(UTC)
    ages = [timedelta(days=d) for d in (59, 58.9, 20, 19.9, 0.5, 0)]
    with db_engine.begin() as conn:
        for content, age in zip(contents, ages, strict=True):
            conn.execute(
                text(
                    "UPDATE versions SET created_at = :at WHERE hash = :h AND file_id ="
                    " (SELECT id FROM files WHERE source_id = :s)"
                ),
                {"at": (now - age).replace(tzinfo=None), "h": sha(content), "s": source},
            )
    policy = {"kind": "staggered", "maxAgeDays": 40}
    api.call("sources/retention", {"sourceId": source, "policy": policy})
    api.call("sources/gc", {"sourceId": source})
    statuses = _statuses(api, source, "notes/old.md")
    # 59 and 58.9 days: past maxAgeDays. 20 and 19.9 days: one per day, the newer one
    # unless both fall on one calendar day boundary apart.
    pruned = {seq for seq, s in statuses.items() if s["pruned"]}
    assert {1, 2} <= pruned
    assert 4 not in pruned and 5 not in pruned and 6 not in pruned
    same_day = (now - ages[2]).date() == (now - ages[3]).date()
    assert (3 in pruned) == same_day


def test_retention_requests_are_checked(api: Api, other_api: Api) -> None:
    source = api.source()["id"]
    for policy in (
        {"kind": "sometimes"},
        {"kind": "last"},
        {"kind": "last", "keepLast": 0},
        {"kind": "last", "keepLast": "3"},
        {"kind": "last", "keepLast": True},
        {"kind": "staggered", "maxAgeDays": 2},
    ):
        answer = api.post("sources/retention", {"sourceId": source, "policy": policy})
        assert answer.status_code == 422, (policy, answer.text)
    assert api.call("sources/retention", {"sourceId": source})["kind"] == "all"
    assert_error(other_api.post("sources/retention", {"sourceId": source}), 404, "SOURCE_NOT_FOUND")
    assert_error(other_api.post("sources/gc", {"sourceId": source}), 404, "SOURCE_NOT_FOUND")
    pin = {"sourceId": source, "relativePath": "nope.md", "seq": 1}
    assert_error(api.post("sources/history/pin", pin), 404, "FILE_NOT_FOUND")


def test_the_server_collects_on_its_schedule(own_settings: Settings) -> None:
    """With an interval set, a running server prunes without being asked."""
    settings = own_settings.model_copy(update={"gc_interval_seconds": 0.2})
    server = LiveServer(settings).start()
    try:
        with Api(server.url, settings, "ws-scheduled") as api:
            source = api.source()["id"]
            _edits(api, source, "s.md", 3)
            api.call(
                "sources/retention", {"sourceId": source, "policy": {"kind": "last", "keepLast": 1}}
            )
            deadline = time.monotonic() + 30
            while sum(s["pruned"] for s in _statuses(api, source, "s.md").values()) < 2:
                assert time.monotonic() < deadline, "the schedule never pruned"
                time.sleep(0.05)
    finally:
        server.stop()
