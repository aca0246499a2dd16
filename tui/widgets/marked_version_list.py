"""The history table with what retention and resolutions add to each version's origin.

A version's row says, after its origin, whether it resolved a conflict (so it
can be undone), whether it is pinned (retention keeps it whatever the policy)
and whether retention pruned its content. The marks come from their own query
(``HistoryMarks``) and may arrive before or after the versions: each redraw
applies whichever marks are known.
"""

from dataclasses import dataclass

from rich.text import Text
from textual.coordinate import Coordinate
from textual.message import Message

from tui.client import HistoryMarks, VersionInfo
from tui.widgets.theme import themed
from tui.widgets.version_list import VersionList

PIN_MARK = "⚑ pinned"
PRUNED_MARK = "✗ pruned"
RESOLUTION_MARK = "resolution"
_ORIGIN_COLUMN = "origin"


class MarkedVersionList(VersionList):
    @dataclass
    class Shown(Message):
        """New versions are listed: their marks are worth reading again."""

        versions: list[VersionInfo]

    marks: HistoryMarks | None = None

    def show(self, versions: list[VersionInfo]) -> None:
        super().show(versions)
        self.post_message(self.Shown(versions))

    def set_marks(self, marks: HistoryMarks) -> None:
        self.marks = marks
        self._redraw()

    def origin_text(self, version: VersionInfo) -> Text:
        """The origin cell: the origin, then what is marked on the version."""
        theme = self.app.theme_variables
        text = Text(version.origin.lower() + (" (conflict side)" if version.conflict_id else ""))
        marks = self.marks
        if marks is None:
            return text
        if version.seq in marks.resolutions:
            text.append(f" · {RESOLUTION_MARK}")
        if version.seq in marks.pinned:
            text.append(f" {PIN_MARK}", style=themed("bold $text-accent", theme))
        if version.seq in marks.pruned:
            text.append(f" {PRUNED_MARK}", style=themed("$text-error", theme))
        return text

    def _redraw(self) -> None:
        super()._redraw()
        if self.marks is None:
            return
        labels = [column.label.plain for column in self.ordered_columns]
        if _ORIGIN_COLUMN not in labels:
            return
        column = labels.index(_ORIGIN_COLUMN)
        for row, version in enumerate(self.versions):
            self.update_cell_at(
                Coordinate(row, column), self.origin_text(version), update_width=True
            )
