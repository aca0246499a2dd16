"""Two real connectors follow a resolution, its undoing and a second resolution."""

from pathlib import Path

from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api

REOPEN = "sources/conflicts/reopen"


def _round(syncer: Syncer, *folders: Path, code: int = 0) -> None:
    for _ in range(2):
        for folder in folders:
            result = syncer.once(folder)
            assert result.exit_code == code, result.output


def test_connectors_hold_a_reopened_conflict_then_take_the_new_resolution(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "clash.md", "# T\nbase line\n")
    _round(syncer, a, b)
    write(a, "clash.md", "# T\nline from a\n")
    write(b, "clash.md", "# T\nline from b\n")
    assert syncer.once(a).exit_code == 0
    assert syncer.once(b).exit_code == 1  # the conflict
    (conflict,) = api.conflicts(source_id(a))
    first = "# T\nline from a\nline from b\n"
    api.resolve(conflict["id"], "manual_merge", resolvedContent=first)
    _round(syncer, a, b)
    assert tree(a) == tree(b) == {"clash.md": first}

    api.call(REOPEN, {"conflictId": conflict["id"]})

    # Both hold the path as in conflict: nothing on disk is overwritten meanwhile.
    _round(syncer, a, b, code=1)
    assert tree(a) == tree(b) == {"clash.md": first}
    assert [c["id"] for c in api.conflicts(source_id(a))] == [conflict["id"]]

    reopened = api.conflicts(source_id(a))[0]
    api.resolve(conflict["id"], "keep_local", revision=reopened["revision"])
    _round(syncer, a, b)
    assert tree(a) == tree(b) == {"clash.md": "# T\nline from b\n"}
    assert api.conflicts(source_id(a)) == []
