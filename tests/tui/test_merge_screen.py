"""The merge screen against a real server: work is never lost, every pane readable and reachable."""

import stat
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static, TextArea

from tests.factories import Api, sha, upsert
from tests.tui.conftest import BASE, LOCAL, PATH, three_region_conflict
from tests.tui.helpers import Toasts, text_of, until
from tests.tui.merge_helpers import _drafts_in_tmp, open_merge, screen_lines  # noqa: F401
from tests.tui.test_loading import SlowClient
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.screens.edit_region import EditRegionScreen
from tui.screens.leave_merge import LeaveMergeScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.merge_rows import highlights
from tui.widgets.merge_view import MergeView
from tui.widgets.result_view import ResultView

NOTES = "notes/one-on-ones.md"
NOTES_BASE = "## Alice 1:1 section 1\n\nbody one\n\n## Bob\n\nbody two\n"
NOTES_LOCAL = "## Alice 1:1 (edited in Laptop) section 1\n\nbody one\n\n## Bob\n\nbody LOCAL\n"
NOTES_RAVEN = "## Alice 1:1 section 1\n\nbody one\n\n## Bob\n\nbody RAVEN\n"


def _conflict(api: Api, sid: str, path: str, texts: tuple[str, str, str]) -> str:
    base, local, raven = texts
    api.push(sid, upsert(path, base))
    assert api.push(sid, upsert(path, local, base=sha(base)))["results"][0]["status"] == "applied"
    edit = api.update(sid, path, raven, base=sha(base))
    assert edit["status"] == "conflict", edit
    return str(edit["conflictId"])


def _long_texts(lines: int, every: int) -> tuple[str, str, str]:
    """A long note in which both sides rewrite every ``every``-th line."""
    base = [f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(lines)]
    local = [f"line {i}: LOCAL fox\n" if i % every == 5 else t for i, t in enumerate(base)]
    raven = [f"line {i}: RAVEN dog\n" if i % every == 5 else t for i, t in enumerate(base)]
    return "".join(base), "".join(local), "".join(raven)


# -- never lose work ---------------------------------------------------------------------


async def test_escape_asks_and_a_kept_draft_survives_a_restart(
    api: Api, make_app: Any, client: LocalSyncClient
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("1")  # region 1: local
        await pilot.press("e")  # region 2 by hand
        await until(pilot, lambda: isinstance(app.screen, EditRegionScreen), "editor open")
        app.screen.query_one("#edit-text", TextArea).text = "beta MINE\n"
        await pilot.press("escape")  # cancels the editor only
        await until(pilot, lambda: app.screen is merge, "editor closed")
        assert set(merge.state.decisions) == {1}
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditRegionScreen), "editor again")
        app.screen.query_one("#edit-text", TextArea).text = "beta MINE\n"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is merge, "edit taken")
        await pilot.press("escape")  # one press too many: asks, loses nothing
        await until(pilot, lambda: isinstance(app.screen, LeaveMergeScreen), "asked")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is merge, "still merging")
        assert set(merge.state.decisions) == {1, 2}
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, LeaveMergeScreen), "asked again")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "left with a draft")
    restarted = make_app(LocalSyncClient(client.server, client.token, client.workspace))
    async with restarted.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        assert {i: d.choice for i, d in merge.state.decisions.items()} == {1: "LOCAL", 2: "EDITED"}
        assert merge.state.decisions[2].text == "beta MINE\n"
        assert merge.unresolved == 1
        await until(pilot, lambda: "beta MINE\n" in merge.result_text, "draft's result")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(restarted.screen, LeaveMergeScreen), "asked")
        await pilot.press("x")  # discard: the draft goes
        await until(pilot, lambda: isinstance(restarted.screen, SourcesScreen), "left")
        merge = await open_merge(pilot, conflict["id"])
        assert merge.state.decisions == {}


async def test_a_draft_of_another_revision_is_dropped(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("2")
        await pilot.press("escape", "d")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "left with a draft")
        # The connector sends a newer local side: the conflict's revision changes.
        api.push(sid, upsert(PATH, LOCAL.replace("gamma LOCAL", "gamma NEWER"), base=sha(BASE)))
        merge = await open_merge(pilot, conflict["id"])
        assert merge.state.decisions == {}
        assert merge.drafts is not None
        assert merge.drafts.load(conflict["id"], merge.conflict.revision) is None  # type: ignore[union-attr]


async def test_saving_drops_the_draft(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        store = merge.drafts
        assert store is not None
        await pilot.press("1")
        await until(pilot, lambda: store.load(conflict["id"], 1) is not None, "draft kept")
        revision = merge.conflict.revision  # type: ignore[union-attr]
        await pilot.press("A", "ctrl+s")
        await until(pilot, lambda: app.screen is not merge, "saved")
        assert store.load(conflict["id"], revision) is None
    assert api.file(sid, PATH)["content"] == LOCAL.replace("beta LOCAL", "beta RAVEN").replace(
        "gamma LOCAL", "gamma RAVEN"
    )


async def test_keys_typed_while_loading_choose_nothing(
    api: Api, make_app: Any, client: LocalSyncClient
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    held = SlowClient(client.server, client.token, client.workspace)
    app = make_app(held)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        held.slow_down()
        merge = MergeScreen(conflict["id"])
        app.push_screen(merge)
        await pilot.press("1", "2", "a", "j")  # before the conflict has arrived
        held.let_through()
        await until(pilot, lambda: merge.doc is not None, "loaded")
        assert merge.current == 1
        assert merge.state.decisions == {} and merge.undo_stack == []


# -- reading and reaching every pane -----------------------------------------------------


async def test_each_side_shows_its_own_words_only(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        view = merge.query_one(MergeView)
        shown = "\n".join(screen_lines(view))
        assert "alpha LOCAL" in shown and "alpha RAVEN" in shown and "alpha one" in shown
        assert "oneLOCAL" not in shown and "LOCALone" not in shown
        assert view.doc is not None
        row = view.doc.rows[view.doc.region_rows[1][0] + 1]
        assert [("alpha LOCAL")[a:b] for a, b in highlights(view.doc, row, "local")] == ["LOCAL"]
        assert [("alpha one")[a:b] for a, b in highlights(view.doc, row, "base")] == ["one"]
        await pilot.press("w")  # highlights off: the same plain text, no word style
        assert not view.words


async def test_the_result_takes_focus_scrolls_and_follows_the_region(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    conflict_id = _conflict(api, sid, "notes/long.md", _long_texts(1174, 100))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict_id)
        result = merge.query_one(ResultView)
        assert merge.region_count == 12
        await pilot.press("tab")
        assert result.has_focus
        top = result.scroll_offset.y
        await pilot.press("pagedown", "down")
        await until(pilot, lambda: result.scroll_offset.y > top, "scrolled by keys")
        await pilot.press("j", "j", "j")  # region 4, around line 306
        await until(pilot, lambda: any("line 305:" in t for t in screen_lines(result)), "follows")
        await pilot.press("n")
        assert merge.current == 5
        view = merge.query_one(MergeView)
        await until(pilot, lambda: view.region_shown(5), "sides follow too")


async def test_auto_merged_changes_are_marked_where_they_came_from(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict_id = _conflict(api, sid, NOTES, (NOTES_BASE, NOTES_LOCAL, NOTES_RAVEN))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict_id)
        view = merge.query_one(MergeView)
        first = screen_lines(view)[0]
        local, raven, base = first.split("│")
        assert "1 L ## Alice 1:1 (edited in Laptop)" in local
        assert "## Alice 1:1 section 1" in raven and "(edited" not in raven
        assert "## Alice 1:1 section 1" in base and "(edited" not in base
        result = screen_lines(merge.query_one(ResultView))
        assert "1 L ## Alice 1:1 (edited in Laptop) section 1" in result[0]
        header = text_of(merge.query_one("#merge-title", Static))
        assert "1 region" in header and "1 regions" not in header
        labels = text_of(merge.query_one("#merge-labels", Static))
        await until(
            pilot,
            lambda: "Local: laptop" in text_of(merge.query_one("#merge-labels", Static)),
            "connector named",
        )
        assert "Raven" in labels


async def test_unchanged_lines_sit_on_the_same_row_in_every_pane(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    base, local, raven = _long_texts(60, 20)
    local = local.replace("line 5: LOCAL fox\n", "line 5: LOCAL fox\nan added line\nanother\n")
    conflict_id = _conflict(api, sid, "notes/aligned.md", (base, local, raven))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        merge = await open_merge(pilot, conflict_id)
        view = merge.query_one(MergeView)
        for _ in range(4):
            for row in screen_lines(view):
                cells = [c.split(" ", 3)[-1].strip() for c in row.split("│")]
                if "line 10:" in cells[0]:
                    assert cells[0] == cells[1] == cells[2]
            await pilot.press("pagedown")


async def test_a_new_conflict_opens_at_its_first_region_and_resizing_keeps_the_region(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    first = _conflict(api, sid, "notes/first.md", _long_texts(400, 100))
    second = _conflict(api, sid, "notes/second.md", _long_texts(400, 100))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, first)
        await pilot.press("j", "j", "j")
        view = merge.query_one(MergeView)
        await until(pilot, lambda: view.region_shown(4), "region 4 shown")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "left")
        merge = await open_merge(pilot, second)
        view = merge.query_one(MergeView)
        assert view.region_shown(1)
        await pilot.press("j", "j")
        await until(pilot, lambda: view.region_shown(3), "region 3 shown")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: view.wrapped is not None and view.wrapped.width < 30, "relaid")
        await until(pilot, lambda: view.region_shown(3), "region 3 still shown")


async def test_accept_all_remaining_keeps_the_choices_made(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("2")  # region 1: raven
        await pilot.press("a")  # every remaining region: local
        assert {i: d.choice for i, d in merge.state.decisions.items()} == {
            1: "RAVEN",
            2: "LOCAL",
            3: "LOCAL",
        }
        expected = LOCAL.replace("alpha LOCAL", "alpha RAVEN")
        await until(pilot, lambda: merge.result_text == expected, "result")
        await pilot.press("z")
        assert set(merge.state.decisions) == {1}


async def test_next_unresolved_skips_decided_regions(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("j", "1")  # region 2 decided; now on 3
        await pilot.press("k", "k")  # back on region 1
        assert merge.current == 1
        await pilot.press("n")
        assert merge.current == 3
        await pilot.press("p")
        assert merge.current == 1
        status = text_of(merge.query_one("#merge-status", Static))
        assert "2 regions left" in status and "unresolved" not in status


# -- the user's own editor ------------------------------------------------------------------


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$EDITOR is a script that keeps a copy of what it was given, then writes its answer."""
    script = tmp_path / "editor.sh"
    seen = tmp_path / "seen.txt"
    answer = tmp_path / "answer.txt"
    script.write_text(f'#!/bin/sh\ncp "$1" {seen}\ncp {answer} "$1"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.delenv("VISUAL", raising=False)
    return tmp_path


async def test_editor_edits_a_region_with_the_base_in_view(
    api: Api, make_app: Any, editor: Path
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    (editor / "answer.txt").write_text("alpha FROM EDITOR\n")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("E")
        await until(pilot, lambda: 1 in merge.state.decisions, "edited")
        seen = (editor / "seen.txt").read_text()
        assert seen.startswith("<<<<<<< local")
        assert "alpha LOCAL\n||||||| base\nalpha one\n=======\nalpha RAVEN\n>>>>>>> raven" in seen
        assert merge.state.decisions[1].text == "alpha FROM EDITOR\n"
        await until(pilot, lambda: "alpha FROM EDITOR\n" in merge.result_text, "result")
        # Markers left in the text change nothing.
        (editor / "answer.txt").write_text(seen.replace("alpha one", "alpha base?"))
        await pilot.press("j", "E")  # region 2
        await until(pilot, lambda: (editor / "seen.txt").read_text().count("beta") == 3, "ran")
        await pilot.pause()
        assert 2 not in merge.state.decisions


async def test_editor_edits_the_whole_result_and_it_is_saved(
    api: Api, make_app: Any, editor: Path
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    final = "# Plan\n\nwritten in my editor\n"
    (editor / "answer.txt").write_text(final)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("ctrl+e")
        await until(pilot, lambda: merge.result_text == final, "edited result shown")
        assert "<<<<<<< local" in (editor / "seen.txt").read_text()
        assert merge.unresolved == 0
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is not merge, "saved")
    assert api.file(sid, PATH)["content"] == final


async def test_sides_are_named_after_who_wrote_them(api: Api, make_app: Any) -> None:
    laptop = api.connector("laptop")
    sid = api.source(connector=laptop)["id"]
    desktop = api.connector("desktop")
    api.push(sid, upsert(NOTES, NOTES_BASE))
    # A second folder syncing into the same source, through its own connector.
    pushed = api.push(
        sid, upsert(NOTES, NOTES_RAVEN, base=sha(NOTES_BASE)), connectorId=desktop["id"]
    )
    assert pushed["results"][0]["status"] == "applied"
    item = api.push(sid, upsert(NOTES, NOTES_LOCAL, base=sha(NOTES_BASE)))["results"][0]
    assert item["status"] == "conflict", item
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, item["conflictId"])
        labels = text_of(merge.query_one("#merge-labels", Static))
        assert "Local: laptop" in labels and "Raven side: desktop" in labels
        header = text_of(merge.query_one("#merge-title", Static))
        assert "stale base" not in header and "edit delete" not in header
        where = text_of(merge.query_one("#merge-where", Static))
        assert merge.server_label in where and f"workspace {api.workspace}" in where
        assert "opened " in where and " ago" in where


# -- a merge too large for one answer --------------------------------------------------------

WIDE_BASE = "# Wide\n\n" + " ".join(f"base{i}" for i in range(300)) + "\n"
WIDE_LOCAL = "# Wide\n\n" + " ".join(f"local{i}" for i in range(300)) + "\n"
WIDE_RAVEN = "# Wide\n\n" + " ".join(f"raven{i}" for i in range(300)) + "\n"


def _sized(start_server: Any, workspace: str, limit: int) -> tuple[Api, LocalSyncClient]:
    server = start_server(graphql_max_response_bytes=limit)
    api = Api(server.url, server.settings, workspace)
    return api, LocalSyncClient(server.url, api.token, workspace)


@pytest.mark.parametrize("room", ["plain fits", "nothing fits"])
async def test_a_merge_too_large_for_one_answer_says_what_to_do(
    start_server: Any, workspace: str, room: str
) -> None:
    sides = len(WIDE_BASE) + len(WIDE_LOCAL) + len(WIDE_RAVEN)
    # The plain query carries the sides and the region's lines (about as much
    # again); word changes would add more than half as much once more.
    limit = 2 * sides + sides // 2 if room == "plain fits" else sides // 2
    api, client = _sized(start_server, workspace, limit)
    with api:
        sid = api.source()["id"]
        conflict_id = _conflict(api, sid, "notes/wide.md", (WIDE_BASE, WIDE_LOCAL, WIDE_RAVEN))
        app = LocalSyncApp(client, live=False)
        toasts = Toasts()
        async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources")
            merge = MergeScreen(conflict_id)
            await app.push_screen(merge)
            title = merge.query_one("#merge-title", Static)
            if room == "plain fits":
                await until(pilot, lambda: merge.doc is not None, "loaded without word changes")
                assert merge.conflict is not None
                assert not any(r.word_changes for r in merge.conflict.regions)
                assert toasts.find("too large for the server to send at once")
            else:
                await until(pilot, lambda: "could not send this merge" in text_of(title), "said")
                text = text_of(title)
                assert (
                    "LOCALSYNC_GRAPHQL_MAX_RESPONSE_BYTES" in text and "Nothing was changed" in text
                )
                assert "RESPONSE_TOO_LARGE" not in text
                assert app.screen is merge and merge.doc is None
