"""The help screen, the footer and the list keys (j k q), at the sizes people use."""

from typing import Any, ClassVar

import pytest
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from tests.factories import Api
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import open_merge, text_of, until
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.screens.base import BaseScreen
from tui.screens.connect import ConnectScreen
from tui.screens.help import HelpScreen
from tui.screens.history import HistoryScreen
from tui.screens.inbox import InboxScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.bottom_bar import BottomBar, KeyFooter

SIZES = [(80, 24), (120, 40)]


def _help_text(help_screen: HelpScreen) -> str:
    return "\n".join(text_of(s) for s in help_screen.query(Static))


async def _sources(pilot: Any, app: LocalSyncApp, count: int) -> SourcesScreen:
    await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
    sources = app.screen
    assert isinstance(sources, SourcesScreen)
    await until(pilot, lambda: len(sources.sources) == count, "sources listed")
    return sources


async def test_help_lists_the_apps_keys_by_screen_and_scrolls_at_80x24(
    api: Api, client: LocalSyncClient
) -> None:
    api.source()
    app = LocalSyncApp(client, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sources(pilot, app, 1)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help open")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        titles = [group.title for group in help_screen.groups]
        assert titles[:2] == ["This screen · Sources", "Everywhere"]
        assert {"Files", "History", "Conflict inbox", "Merge", "Connection"} <= set(titles)
        history = next(group for group in help_screen.groups if group.title == "History")
        history_keys = dict(history.rows)
        assert history_keys["b"] == "Blame" and history_keys["u"] == "Undo resolution"
        assert history_keys["p"] == "Pin/unpin" and history_keys["R"] == "Restore version"
        here = {d: k for k, d in help_screen.groups[0].rows}
        assert here["Open the source's files"] == "⏎"
        assert here["Next source"] == "j" and here["Quit"] == "q"
        shown = _help_text(help_screen)
        for generic in ("Select", "Page Left", "Copy selected text", "Scroll Up"):
            assert generic not in shown, generic

        keys = help_screen.query_one("#help-keys", VerticalScroll)
        hint = help_screen.query_one("#help-hint", Static)
        await until(pilot, lambda: keys.max_scroll_y > 0, "more keys than rows")
        assert hint.region.bottom <= 24  # the way out stays on screen
        for _ in range(keys.max_scroll_y):
            await pilot.press("j")
        await until(pilot, lambda: keys.scroll_y == keys.max_scroll_y, "scrolled to the end")
        await pilot.press("k")
        await until(pilot, lambda: keys.scroll_y == keys.max_scroll_y - 1, "scrolled back")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "help closed")


def _footer_keys(app: LocalSyncApp) -> list[FooterKey]:
    footer = app.screen.query_one(KeyFooter)
    return [key for key in footer.query(FooterKey) if key.display]


def _fits(app: LocalSyncApp, width: int) -> bool:
    """Every shown key is whole on the line, none under the pinned help key."""
    keys = _footer_keys(app)
    if not keys or not keys[-1].has_class("-help-key"):
        return False
    pinned = keys[-1].region
    rest = keys[:-1]
    return pinned.right <= width and all(k.region.right < pinned.x for k in rest)


def _descriptions(app: LocalSyncApp) -> list[str]:
    return [key.description for key in _footer_keys(app)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_footers_show_their_first_keys_whole_and_the_help_key(
    api: Api, client: LocalSyncClient, size: tuple[int, int]
) -> None:
    three_region_conflict(api, api.source()["id"])
    app = LocalSyncApp(client, live=False, connect_delays=(3600, 3600))
    async with app.run_test(size=size) as pilot:
        await _sources(pilot, app, 1)
        await until(pilot, lambda: _fits(app, size[0]), "sources footer fitted")
        assert _descriptions(app) == ["Conflicts", "Pause/resume", "Reload", "Quit", "All keys"]

        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), "inbox")
        await until(pilot, lambda: _fits(app, size[0]), "inbox footer fitted")
        assert _descriptions(app) == ["Back", "Reload", "All keys"]

        app.client = LocalSyncClient("http://127.0.0.1:1", api.token, api.workspace)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), "connect screen")
        await until(pilot, lambda: _fits(app, size[0]), "connect footer fitted")
        assert _descriptions(app)[:2] == ["Retry now", "Edit server"]
        assert _descriptions(app)[-1] == "All keys"


class _ManyKeys(BaseScreen[None]):
    """As many keys as the merge screen, the most important bound last."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(f"f{n}", f"noop({n})", f"Something long number {n}") for n in range(1, 12)),
        Binding("ctrl+s", "noop(0)", "Save"),
    ]
    footer_keys = ("noop(0)",)

    def compose(self) -> ComposeResult:
        yield BottomBar()

    def action_noop(self, n: int) -> None:
        """Nothing: only the footer is looked at."""


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_a_long_footer_keeps_the_first_keys_and_leaves_the_rest_to_help(
    client: LocalSyncClient, size: tuple[int, int]
) -> None:
    app = LocalSyncApp(client, live=False)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        await app.push_screen(_ManyKeys())
        await until(pilot, lambda: _fits(app, size[0]), "footer fitted")
        shown = _descriptions(app)
        assert shown[0] == "Save" and shown[-1] == "All keys"
        assert 3 <= len(shown) < 13  # what fits, in order; the rest only in help
        assert shown[1:-1] == [f"Something long number {n}" for n in range(1, len(shown) - 1)]
        await pilot.resize_terminal(200, 50)
        await until(pilot, lambda: len(_descriptions(app)) > len(shown), "more fit when wider")
        await until(pilot, lambda: _fits(app, 200), "fitted again")


async def test_j_k_move_and_q_goes_back_then_quits(api: Api, client: LocalSyncClient) -> None:
    first, second = api.source()["id"], api.source(name="Other")["id"]
    three_region_conflict(api, first)
    three_region_conflict(api, second)
    app = LocalSyncApp(client, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        sources = await _sources(pilot, app, 2)
        table = sources.query_one("#sources", DataTable)
        await pilot.press("j")
        await until(pilot, lambda: table.cursor_row == 1, "j moved down")
        await pilot.press("k")
        await until(pilot, lambda: table.cursor_row == 0, "k moved up")

        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), "inbox")
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        await until(pilot, lambda: len(inbox.conflicts) == 2, "conflicts listed")
        rows = inbox.query_one("#conflicts", DataTable)
        await pilot.press("j")
        await until(pilot, lambda: rows.cursor_row == 1, "j moved down the inbox")
        await pilot.press("k")
        await until(pilot, lambda: rows.cursor_row == 0, "k moved up the inbox")
        await pilot.press("q")
        await until(pilot, lambda: app.screen is sources, "q went back")
        await pilot.press("q")
        await until(pilot, lambda: app._exit, "q on the first screen quits")


async def test_every_sources_column_fits_at_80_columns_and_widens_after(
    api: Api, client: LocalSyncClient
) -> None:
    api.source()
    app = LocalSyncApp(client, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        sources = await _sources(pilot, app, 1)
        table = sources.query_one("#sources", DataTable)

        def labels() -> list[str]:
            return [str(c.label) for c in table.columns.values()]

        await until(pilot, lambda: table.row_count == 1, "row shown")
        assert labels()[-1] == "conflicts"
        await until(pilot, lambda: 0 < table.virtual_size.width <= table.size.width, "fits")
        await pilot.resize_terminal(140, 40)
        await until(pilot, lambda: labels()[-1] == "open conflicts", "wide columns")
        await until(pilot, lambda: table.row_count == 1, "row shown again")


MERGE_FOOTER = ["Local", "Raven", "Next region", "Save", "Edit region", "Undo", "Back"]
HISTORY_FOOTER = [
    "Back",
    "Restore version",
    "Diff with parent / whole",
    "Blame",
    "Undo resolution",
    "Pin/unpin",
    "Reload",
]


@pytest.mark.parametrize(
    ("size", "merge_keys", "history_keys"),
    [((80, 24), 6, 4), ((120, 40), 7, 7)],
    ids=["80x24", "120x40"],
)
async def test_merge_and_history_footers_lead_with_their_main_keys(
    api: Api, client: LocalSyncClient, size: tuple[int, int], merge_keys: int, history_keys: int
) -> None:
    """The keys a merge (or a file's history) needs most show first; at 120 columns, all."""
    conflict = three_region_conflict(api, api.source()["id"])
    app = LocalSyncApp(client, live=False)
    async with app.run_test(size=size) as pilot:
        await open_merge(pilot, conflict["id"])
        await until(pilot, lambda: _fits(app, size[0]), "merge footer fitted")
        shown = _descriptions(app)
        assert shown[:merge_keys] == MERGE_FOOTER[:merge_keys], shown
        assert shown[merge_keys:-1] == [] or merge_keys == len(MERGE_FOOTER), shown
        assert shown[-1] == "All keys"

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "merge left")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        await app.push_screen(HistoryScreen(sources.sources[0], conflict["path"]))
        await until(pilot, lambda: _fits(app, size[0]), "history footer fitted")
        shown = _descriptions(app)
        assert shown[:history_keys] == HISTORY_FOOTER[:history_keys], shown
        assert shown[history_keys:-1] == [] or history_keys == len(HISTORY_FOOTER), shown
        assert shown[-1] == "All keys"
