"""Keys found through the command palette, and the files filter driven by keys."""

from typing import Any

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from tests.factories import Api, upsert
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import open_files, until
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.file_tree import FileTree


async def test_palette_runs_a_merge_key(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        merge = MergeScreen(conflict["id"])
        app.push_screen(merge)
        await until(pilot, lambda: merge.conflict is not None, "conflict loaded")
        assert 1 not in merge.state.decisions

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette open")
        palette = app.screen
        await pilot.press(*"raven")
        commands = palette.query_one(CommandList)

        def top_is_raven() -> bool:
            # All three raven keys listed (the search has finished), the exact one first.
            if commands.option_count < 3 or commands.highlighted != 0:
                return False
            title = str(commands.get_option_at_index(0).prompt).splitlines()[0]
            return title == "Raven"

        await until(pilot, top_is_raven, "raven entries listed, Raven first")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is merge, "palette closed")
        await until(pilot, lambda: 1 in merge.state.decisions, "region 1 decided")
        assert merge.state.decisions[1].choice == "RAVEN"
        assert "alpha RAVEN" in merge.result_text


async def test_filter_by_keys_keeps_matching_files(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(
        sid,
        upsert("notes/plan.md", "# Plan\n"),
        upsert("notes/ideas.md", "# Ideas\n"),
        upsert("journal/plan-b.md", "# Plan B\n"),
        upsert("readme.md", "# Readme\n"),
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 4)
        tree = files.query_one(FileTree)

        def shown() -> list[str]:
            paths = []
            for line in range(tree.last_line + 1):
                node = tree.get_node_at_line(line)
                if node is not None and node.data is not None:
                    paths.append(node.data.path)
            return paths

        assert len(shown()) == 4
        await pilot.press("slash")
        filter_input = files.query_one("#filter", Input)
        await until(pilot, lambda: filter_input.has_focus, "filter focused")
        await pilot.press(*"plan")
        await pilot.press("enter")
        await until(pilot, lambda: tree.has_focus, "tree focused again")
        await until(pilot, lambda: len(shown()) == 2, "tree filtered")
        assert filter_input.value == "plan"
        assert shown() == ["journal/plan-b.md", "notes/plan.md"]
