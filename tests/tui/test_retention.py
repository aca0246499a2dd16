"""Retention in the terminal: the sources screen's form (t), pins and pruned versions in history."""

from typing import Any

import pytest
from textual.widgets import Input, RadioButton, Static

from tests.factories import Api, sha, upsert
from tests.tui.helpers import text_of, until
from tui.screens.history import HistoryScreen
from tui.screens.retention import RetentionError, RetentionScreen, whole_number
from tui.screens.sources import SourcesScreen
from tui.widgets.marked_version_list import PIN_MARK, PRUNED_MARK, MarkedVersionList
from tui.widgets.note_view import NoteView


def _retention(api: Api, sid: str) -> dict[str, Any]:
    """The policy as the server reports it (over REST, not the client under test)."""
    policy = api.call("sources/retention", {"sourceId": sid})
    return {k: policy[k] for k in ("kind", "keepLast", "maxAgeDays")}


async def _form(pilot: Any, app: Any) -> RetentionScreen:
    await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
    await pilot.press("t")
    await until(pilot, lambda: isinstance(app.screen, RetentionScreen), "form open")
    form = app.screen
    assert isinstance(form, RetentionScreen)
    await until(pilot, lambda: form.policy is not None, "policy loaded")
    return form


async def _type(pilot: Any, form: RetentionScreen, selector: str, text: str) -> None:
    field = form.query_one(selector, Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


async def test_form_sets_a_policy_and_refuses_bad_numbers(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await _form(pilot, app)
        assert form.query_one("#kind-all", RadioButton).value
        form.query_one("#kind-last", RadioButton).value = True
        await until(pilot, lambda: not form.query_one("#keep-last", Input).disabled, "N enabled")
        error = form.query_one("#retention-error", Static)
        for typed, words in (
            ("0", "at least 1; 0 is too small"),
            ("-3", "at least 1; -3 is too small"),
            ("99999999999999999999", "at most 1,000,000"),
        ):
            await _type(pilot, form, "#keep-last", typed)
            await pilot.press("ctrl+s")
            await until(pilot, lambda w=words: w in text_of(error), f"refused {typed}")  # type: ignore[misc]
            assert app.screen is form
        assert _retention(api, sid)["kind"] == "all"  # nothing was saved
        await _type(pilot, form, "#keep-last", "5")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "saved and closed")
        assert _retention(api, sid) == {"kind": "last", "keepLast": 5, "maxAgeDays": None}

        form = await _form(pilot, app)  # shows what the server holds
        assert form.query_one("#kind-last", RadioButton).value
        assert form.query_one("#keep-last", Input).value == "5"
        error = form.query_one("#retention-error", Static)
        form.query_one("#kind-staggered", RadioButton).value = True
        await until(pilot, lambda: not form.query_one("#max-age", Input).disabled, "age enabled")
        await _type(pilot, form, "#max-age", "7")
        await pilot.press("enter")
        await until(pilot, lambda: "at least 30" in text_of(error), "short age refused")
        await _type(pilot, form, "#max-age", "90")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "saved")
    assert _retention(api, sid) == {"kind": "staggered", "keepLast": None, "maxAgeDays": 90}


@pytest.mark.parametrize(
    ("typed", "expected"), [("1", 1), (" 1,000 ", 1000), ("1_000_000", 1_000_000)]
)
def test_whole_number_reads_what_people_type(typed: str, expected: int) -> None:
    assert whole_number(typed, "N", 1, 1_000_000) == expected


@pytest.mark.parametrize("typed", ["", "1.5", "²", "1e3", "9" * 5000, "-" + "9" * 5000])
def test_whole_number_refuses_with_a_sentence(typed: str) -> None:
    with pytest.raises(RetentionError, match=r"^N must be"):
        whole_number(typed, "N", 1, 1_000_000)


async def test_pins_show_and_pruned_versions_say_so(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "one\n"))
    api.push(sid, upsert("a.md", "two\n", base=sha("one\n")))
    api.push(sid, upsert("a.md", "three\n", base=sha("two\n")))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        history = HistoryScreen(sources.sources[0], "a.md")
        await app.push_screen(history)
        versions = history.query_one(MarkedVersionList)
        await until(pilot, lambda: versions.marks is not None and versions.has_focus, "marks")

        def origin(row: int) -> str:
            return versions.origin_text(versions.versions[row]).plain

        await pilot.press("down", "p")  # version 2
        await until(pilot, lambda: PIN_MARK in origin(1), "pinned")
        assert PIN_MARK not in origin(0) and PIN_MARK not in origin(2)
        drawn = versions.get_row_at(1)
        assert any(PIN_MARK in str(cell) for cell in drawn)

        # keep the newest only: version 1 goes, version 2 stays pinned
        api.call("sources/retention", {"sourceId": sid, "policy": {"kind": "last", "keepLast": 1}})
        assert api.call("sources/gc", {"sourceId": sid})["versionsPruned"] == 1
        await pilot.press("r")
        await until(pilot, lambda: PRUNED_MARK in origin(2), "pruned shown")
        assert PRUNED_MARK not in origin(1)
        await pilot.press("down")
        note = history.query_one("#version", NoteView)
        await until(pilot, lambda: "was pruned" in (note.text or ""), "pruned content explained")

        await pilot.press("up", "p")  # unpin version 2
        await until(pilot, lambda: PIN_MARK not in origin(1), "unpinned")
