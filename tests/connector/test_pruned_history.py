"""A folder joining late pulls a history whose older versions retention has pruned."""

from pathlib import Path

from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api

PAGE = 500  # the connector's deltas page


def test_a_pruned_version_read_on_its_own_page_is_skipped_quietly(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    """The pruned version is the newest of its file on the first page; the current one
    arrives on the next page, so the connector must pass it over, not report it."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for n in (1, 2):
        write(a, "plan.md", f"# Plan\nversion {n}\n")
        assert syncer.once(a).exit_code == 0
    for i in range(PAGE):
        write(a, f"filler/{i:03}.md", f"{i}\n")
    assert syncer.once(a).exit_code == 0
    write(a, "plan.md", "# Plan\nversion 3\n")
    assert syncer.once(a).exit_code == 0
    source = source_id(a)
    api.call("sources/retention", {"sourceId": source, "policy": {"kind": "last", "keepLast": 1}})
    assert api.call("sources/gc", {"sourceId": source})["versionsPruned"] == 2
    first = api.call("sources/deltas", {"sourceId": source, "cursor": 0, "limit": PAGE})
    plan = [e for e in first["events"] if e.get("relativePath") == "plan.md"]
    assert plan[-1]["payload"].get("contentPruned") is True

    result = syncer.once(b)
    assert result.exit_code == 0, result.output
    assert tree(b)["plan.md"] == "# Plan\nversion 3\n"
    assert len(tree(b)) == PAGE + 1
    assert " ERROR " not in result.output
    assert "pruned by retention" in result.output
