"""Opening the merge screen in a test and reading what its panes draw."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import until
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.merge_view import MergeView
from tui.widgets.result_view import ResultView


@pytest.fixture(autouse=True)
def _drafts_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Merge drafts go to the user data directory: a test's own, never the real one."""
    folder = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    yield folder


async def open_merge(
    pilot: Pilot[Any], conflict_id: str, on_dismiss: Callable[[bool | None], None] | None = None
) -> MergeScreen:
    """Open ``conflict_id``'s merge screen over the sources screen, laid out, its result shown."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
    merge = MergeScreen(conflict_id)
    app.push_screen(merge, on_dismiss)
    await until(pilot, lambda: merge.doc is not None, "conflict loaded")
    view = merge.query_one(MergeView)
    await until(pilot, lambda: view.wrapped is not None, "laid out")
    await until(pilot, lambda: merge.query_one(ResultView).text or merge.deleted_side, "result")
    await pilot.pause()
    return merge


def screen_lines(view: MergeView | ResultView) -> list[str]:
    """The text each visible row of ``view`` draws."""
    height = view.scrollable_content_region.height
    return [view.render_line(y).text for y in range(height)]
