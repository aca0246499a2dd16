"""Resolving by region decisions merges outside any transaction, then re-checks before storing."""

import pytest

from backend.db import session_scope
from backend.errors import StateConflict
from backend.services import preview
from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert


def test_a_side_replaced_while_decisions_merge_is_refused_as_stale(
    api: Api, live_server: LiveServer
) -> None:
    engine = live_server.app.state.runtime.engine
    sid = api.source()["id"]
    clash = api.open_conflict(sid)
    with session_scope(engine, read_only=True) as session:
        view = preview.load_decision(session, api.workspace, clash["id"])
    decided = preview.decide(view, {1: "local"})
    assert decided.text == clash["local"]

    # Between the read and the store, the connector sends a newer local side.
    newer = "# Title\nnewer local line\n"
    result = api.push(sid, upsert(clash["path"], newer, base=sha(clash["base"])))["results"][0]
    assert result["status"] == "conflict", result
    history = api.history(sid, clash["path"])
    events = api.deltas(sid)

    with pytest.raises(StateConflict) as refused, session_scope(engine) as session:
        preview.store_decision(session, api.workspace, view, decided, live_server.settings)
    assert refused.value.code == "STALE_REVISION"

    # Nothing was written: the conflict stays open on the newer side.
    (conflict,) = api.conflicts(sid)
    assert conflict["localHash"] == sha(newer)
    assert api.history(sid, clash["path"]) == history
    assert api.deltas(sid) == events
