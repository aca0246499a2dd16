"""``localsync verify``: silent on a healthy database, names every planted breach."""

from collections.abc import Callable

from click.testing import Result
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.factories import Api, delete, sha, upsert


def _populate(api: Api) -> dict[str, str]:
    """A little of everything: edits, a delete, an open conflict, pruned versions."""
    source = api.source()["id"]
    base = None
    for n in range(4):
        content = f"# a\nversion {n}\n"
        api.push(source, upsert("a.md", content, base=base))
        base = sha(content)
    api.push(source, upsert("gone.md", "# soon gone\n"))
    api.push(source, delete("gone.md", sha("# soon gone\n")))
    api.push(source, upsert("b.md", "# b\n"))
    clash = api.open_conflict(source, "clash.md")
    api.call("sources/retention", {"sourceId": source, "policy": {"kind": "last", "keepLast": 1}})
    assert api.call("sources/gc", {"sourceId": source})["versionsPruned"] == 3
    return {"source": source, "conflict": clash["id"]}


def test_a_healthy_database_passes(
    own_api: Api, own_database: str, localsync: Callable[..., Result]
) -> None:
    _populate(own_api)
    result = localsync("verify", database_url=own_database)
    assert result.exit_code == 0, result.output
    assert "versions_pruned 3" in result.output
    assert "open_conflicts 1" in result.output
    assert "ok: nothing is missing" in result.output


def test_each_planted_breach_is_reported(
    own_api: Api, own_database: str, own_engine: Engine, localsync: Callable[..., Result]
) -> None:
    populated = _populate(own_api)
    source = populated["source"]
    b = sha("# b\n")
    newest_a = sha("# a\nversion 3\n")
    with own_engine.begin() as conn:
        # Missing blob: b.md's only content.
        conn.execute(text("DELETE FROM blobs WHERE hash = :h"), {"h": b})
        # Corrupt blob: a.md's current content no longer hashes to its name.
        conn.execute(text("UPDATE blobs SET content = 'tampered' WHERE hash = :h"), {"h": newest_a})
        # An open conflict whose local side is gone.
        local = sha("# Title\nlocal line\n")
        conn.execute(text("DELETE FROM blobs WHERE hash = :h"), {"h": local})
        # A gap in the event cursors.
        conn.execute(text("DELETE FROM events WHERE source_id = :s AND cursor = 2"), {"s": source})
        # An orphan current hash: gone.md claims content its history never had.
        conn.execute(
            text(
                "UPDATE files SET current_hash = :h, state = 'ok'"
                " WHERE source_id = :s AND relative_path = 'gone.md'"
            ),
            {"h": newest_a, "s": source},
        )
    result = localsync("verify", database_url=own_database)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "BREACH missing_blob: source" in out and f"'b.md' version 1: content {b}" in out
    assert "BREACH corrupt_blob: blob " + newest_a in out
    assert f"BREACH cursor_gap: source {source}" in out and "missing 2" in out
    assert "BREACH current_not_newest" in out and "'gone.md'" in out
    assert f"BREACH conflict_side_unreadable: conflict {populated['conflict']}" in out
    assert f"local {local} is not readable" in out
    assert out.splitlines()[-1] == "10 breaches"
