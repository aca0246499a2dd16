"""The merge screen's rules for a user's choices: kept across reloads, undone in place,
refused where they would store something unintended, saved once."""

import asyncio
from typing import Any

from textual.widgets import Static, TextArea

from tests.factories import Api, delete, sha, upsert
from tests.tui.conftest import BASE, LOCAL, PATH, RAVEN, three_region_conflict
from tests.tui.helpers import text_of, until
from tests.tui.merge_helpers import _drafts_in_tmp, open_merge  # noqa: F401
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient, ResolveOutcome
from tui.screens.edit_region import EditRegionScreen
from tui.screens.merge import DELETED
from tui.widgets.result_view import ResultView

SETTLED = LOCAL.replace("alpha LOCAL", "alpha RAVEN")
"""A newer local side that agrees with raven on region 1: the conflict keeps regions 2, 3."""


async def _edit(pilot: Any, app: Any, text: str) -> None:
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, EditRegionScreen), "editor open")
    app.screen.query_one("#edit-text", TextArea).text = text
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(app.screen, EditRegionScreen), "editor closed")


async def test_a_stale_save_keeps_the_choices_whose_lines_did_not_change(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("1", "2")  # region 1 local, region 2 raven
        await _edit(pilot, app, "gamma MINE")  # region 3, typed without its newline
        await until(pilot, lambda: merge.unresolved == 0, "all decided")
        # The connector settles region 1 while the screen is open.
        api.push(sid, upsert(PATH, SETTLED, base=sha(BASE)))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: merge.region_count == 2, "reloaded with two regions")
        assert app.screen is merge
        # Old regions 2 and 3 are now 1 and 2; their choices followed them.
        assert {i: d.choice for i, d in merge.state.decisions.items()} == {
            1: "RAVEN",
            2: "EDITED",
        }
        expected = RAVEN.replace("gamma RAVEN", "gamma MINE")
        await until(pilot, lambda: merge.result_text == expected, "result recomputed")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is not merge, "saved")
    assert api.file(sid, PATH)["content"] == expected


async def test_reloading_keeps_every_choice(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("1", "2")
        await until(pilot, lambda: len(merge.state.decisions) == 2, "two choices")
        before = merge.conflict
        merge.action_reload()  # as after a successful retry on the connect screen
        await until(pilot, lambda: merge.conflict is not before, "reloaded")
        assert {i: d.choice for i, d in merge.state.decisions.items()} == {1: "LOCAL", 2: "RAVEN"}


async def test_undo_returns_to_the_region_it_undoes(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("1", "2")
        assert merge.current == 3
        await pilot.press("z")
        assert merge.current == 2 and set(merge.state.decisions) == {1}
        await pilot.press("z")
        assert merge.current == 1 and merge.state.decisions == {}
        await until(pilot, lambda: "<<<<<<< local\nalpha LOCAL" in merge.result_text, "undone")


async def test_base_cannot_be_taken_when_no_base_is_known(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert(PATH, BASE))
    unknown = sha("content this server never stored\n")
    item = api.push(sid, upsert(PATH, LOCAL, base=unknown))["results"][0]
    assert item["status"] == "conflict"
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, item["conflictId"])
        assert merge.conflict is not None and not merge.conflict.base_known
        await pilot.press("0")
        assert merge.state.decisions == {} and merge.current == 1
        await pilot.press("1")
        assert 1 in merge.state.decisions


async def test_a_deleted_side_offers_whole_file_choices_only(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert(PATH, BASE))
    assert api.update(sid, PATH, RAVEN, base=sha(BASE))["status"] == "ok"
    item = api.push(sid, delete(PATH, base=sha(BASE)))["results"][0]
    assert item["status"] == "conflict", item
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, item["conflictId"])
        assert merge.deleted_side == "local" and merge.unresolved == 1
        assert "local side deleted this file" in text_of(merge.query_one("#merge-status", Static))
        await pilot.press("1", "e")  # no region can be picked or edited
        assert merge.state.decisions == {} and app.screen is merge
        await pilot.press("ctrl+s")  # nor saved with markers
        assert app.screen is merge
        await pilot.press("L")
        result = merge.query_one(ResultView)
        await until(pilot, lambda: result.note == DELETED and result.text == "", "said")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is not merge, "saved")
    [resolved] = api.conflicts(sid, status=None)
    assert resolved["resolution"] == "keep_local"
    assert api.files(sid, state="deleted")[0]["relativePath"] == PATH


class _HeldSaves(LocalSyncClient):
    """The real client and server; a save's answer waits until the test lets it through."""

    def __init__(self, client: LocalSyncClient) -> None:
        super().__init__(client.server, client.token, client.workspace)
        self.saves = 0
        self.answer = asyncio.Event()

    async def resolve_conflict(self, conflict_id: str, **kwargs: Any) -> ResolveOutcome:
        self.saves += 1
        outcome = await super().resolve_conflict(conflict_id, **kwargs)
        await self.answer.wait()
        return outcome


async def test_a_second_ctrl_s_does_not_cancel_the_first_save(
    api: Api, client: LocalSyncClient
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    held = _HeldSaves(client)
    app = LocalSyncApp(held, live=False)
    done: list[bool | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"], done.append)
        await pilot.press("L")
        await until(pilot, lambda: merge.unresolved == 0, "whole file chosen")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: merge.saving and held.saves == 1, "saving")
        # Keys are handled in order: once "down" has moved the cursor, the second
        # ctrl+s has been handled while the first save still waits for its answer.
        await pilot.press("ctrl+s", "down")
        await until(pilot, lambda: merge.current == 2, "second ctrl+s handled")
        assert merge.saving and not done and held.saves == 1
        held.answer.set()
        await until(pilot, lambda: done, "dismissed")
    assert done == [True] and held.saves == 1
    assert api.file(sid, PATH)["content"] == LOCAL
