"""A file's history as a table; space marks up to two versions to compare."""

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from tui.client import VersionInfo
from tui.clock import Clock, age, local_now, stamp
from tui.widgets.theme import themed


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


class VersionList(DataTable[str | Text]):
    """Newest first. Home and End go to the newest and oldest version; j and k move too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark for diff"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home", "scroll_top", "Newest", show=False),
        Binding("end", "scroll_bottom", "Oldest", show=False),
    ]

    @dataclass
    class PairChosen(Message):
        """Two marked versions, older first."""

        older: VersionInfo
        newer: VersionInfo

    def __init__(self, *, id: str | None = None, clock: Clock = local_now) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.clock = clock
        """Times show in this clock's zone, with their age ("5m") relative to it."""
        self.versions: list[VersionInfo] = []
        self.marked: list[int] = []

    def on_mount(self) -> None:
        self.add_columns("", "#", "time", "age", "origin", "size", "hash")
        self.app.theme_changed_signal.subscribe(self, lambda _: self._redraw())

    def show(self, versions: list[VersionInfo]) -> None:
        self.versions = versions
        self.marked = []
        self._redraw()

    def _redraw(self) -> None:
        row = self.cursor_row
        self.clear()
        marked = themed("bold $text-warning", self.app.theme_variables)
        now = self.clock()
        for i, v in enumerate(self.versions):
            mark = Text("◆", style=marked) if i in self.marked else Text(" ")
            origin = v.origin.lower() + (" (conflict side)" if v.conflict_id else "")
            if v.moved_from:
                origin += f" · moved from {v.moved_from}"
            self.add_row(
                mark,
                str(v.seq),
                stamp(v.recorded_at, now),
                age(v.recorded_at, now),
                origin,
                "deleted" if v.deleted else _size(v.size) + (" binary" if v.binary else ""),
                (v.hash or "-")[:10],
                key=str(i),
            )
        if self.versions:
            self.move_cursor(row=min(row, len(self.versions) - 1))

    @property
    def current(self) -> VersionInfo | None:
        if not self.versions or not 0 <= self.cursor_row < len(self.versions):
            return None
        return self.versions[self.cursor_row]

    def parent_of(self, version: VersionInfo) -> VersionInfo | None:
        """The newest version older than ``version`` that has content: what it changed from."""
        older = self.versions[self.versions.index(version) + 1 :]
        return next((v for v in older if v.hash is not None), None)

    def action_mark(self) -> None:
        row = self.cursor_row
        if row < 0 or row >= len(self.versions):
            return
        if row in self.marked:
            self.marked.remove(row)
        else:
            self.marked = [*self.marked, row][-2:]
        self._redraw()
        if len(self.marked) == 2:
            # Newest first in the table, so the larger row index is the older one.
            a, b = sorted(self.marked)
            self.post_message(self.PairChosen(self.versions[b], self.versions[a]))
