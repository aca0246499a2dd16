"""Resolve one conflict region by region; the server computes every result.

Decisions are kept per region number. After a refused save (stale revision)
the conflict is reloaded and the decisions survive if the region count is the
same, since region N then still means the same place in the file.
"""

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.client import (
    AlreadyResolved,
    Choice,
    ClientError,
    ConflictDetail,
    Decision,
    Region,
    StaleRevision,
    WholeFile,
)
from tui.screens.base import BaseScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.bottom_bar import BottomBar
from tui.widgets.merge_region import MergePane

_LABELS: dict[Choice, str] = {
    "LOCAL": "local",
    "RAVEN": "raven",
    "BOTH_LOCAL_FIRST": "both, local first",
    "BOTH_RAVEN_FIRST": "both, raven first",
    "BASE": "base",
    "EDITED": "edited",
}


@dataclass(frozen=True)
class _State:
    decisions: dict[int, Decision]
    whole: WholeFile | None


class _Pane(VerticalScroll, can_focus=False):
    pass


def render_result(text: str) -> Content:
    parts: list[tuple[str, str]] = []
    for line in text.splitlines(keepends=True):
        marker = line.startswith(("<<<<<<<", "=======", ">>>>>>>", "|||||||"))
        parts.append((line, "bold $text-error" if marker else ""))
    return Content.assemble(*parts)


def starting_text(region: Region, decision: Decision | None) -> str:
    """What the editor opens with: the region as last chosen, or its local lines.

    Starting from the choice lets a person take both sides and then trim, as in
    meld. The server still computes the result from the edited text.
    """
    if decision is None:
        return region.local
    if decision.choice == "EDITED":
        return decision.text or ""
    parts: dict[Choice, tuple[str, ...]] = {
        "LOCAL": (region.local,),
        "RAVEN": (region.remote,),
        "BASE": (region.base,),
        "BOTH_LOCAL_FIRST": (region.local, region.remote),
        "BOTH_RAVEN_FIRST": (region.remote, region.local),
    }
    return "".join(_with_eol(p) for p in parts[decision.choice] if p)


def _with_eol(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


class MergeScreen(BaseScreen[bool]):
    """Dismissed with ``True`` once saved."""

    help_title = "merge"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("down,l", "next", "Next region"),
        Binding("up,h", "previous", "Previous region"),
        Binding("space,1", "take('LOCAL')", "Local"),
        Binding("2", "take('RAVEN')", "Raven"),
        Binding("b", "take('BOTH_LOCAL_FIRST')", "Both (local first)"),
        Binding("B", "take('BOTH_RAVEN_FIRST')", "Both (raven first)"),
        Binding("0", "take('BASE')", "Base"),
        Binding("e", "edit", "Edit region"),
        Binding("z", "undo", "Undo"),
        Binding("L", "whole('KEEP_LOCAL')", "Keep local file"),
        Binding("R", "whole('KEEP_RAVEN')", "Keep raven file"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, conflict_id: str) -> None:
        super().__init__()
        self.conflict_id = conflict_id
        self.conflict: ConflictDetail | None = None
        self.state = _State({}, None)
        self.undo_stack: list[_State] = []
        self.current = 1
        self.result_text = ""

    def compose(self) -> ComposeResult:
        yield Static("Loading conflict…", id="merge-title", classes="screen-title")
        with Horizontal(id="sides"):
            for side, label in (("local", "local"), ("remote", "raven"), ("base", "base")):
                with Vertical(id=f"side-{side}", classes="side"):
                    yield Static(label, classes="side-label")
                    with _Pane():
                        yield MergePane(side, id=f"pane-{side}")  # type: ignore[arg-type]
        yield Static(id="merge-status")
        with _Pane(id="result-box"):
            yield Static(id="result")
        yield BottomBar()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load(keep=False)

    @property
    def region_count(self) -> int:
        return len(self.conflict.regions) if self.conflict else 0

    @property
    def unresolved(self) -> int:
        if self.state.whole is not None:
            return 0
        return self.region_count - len(self.state.decisions)

    @work(exclusive=True, group="load")
    async def _load(self, keep: bool) -> None:
        conflict = await self.fetch(self.client.conflict(self.conflict_id), "#sides", "#result-box")
        if conflict is None:
            return
        if conflict.status != "OPEN":
            self.notify("This conflict is already resolved.", severity="warning")
            self.dismiss(False)
            return
        if not keep or len(conflict.regions) != self.region_count:
            if keep:
                self.notify("The regions changed, so your choices were cleared.")
            self.state = _State({}, None)
            self.undo_stack = []
            self.current = 1
        self.conflict = conflict
        self.query_one("#side-base").display = conflict.base_known
        reason = conflict.reason.replace("_", " ")
        self.query_one("#merge-title", Static).update(
            Text.assemble(
                ("Merge ", "bold"),
                (conflict.path, "bold"),
                f"  · {reason}",
                " · ",
                (f"{self.region_count} regions", "bold"),
            )
        )
        self._redraw()
        self._preview()

    def _redraw(self) -> None:
        conflict = self.conflict
        if conflict is None:
            return
        decided = set(self.state.decisions) if self.state.whole is None else set()
        for pane in self.query(MergePane):
            pane.show(conflict.chunks, self.current, decided)
        self._status()

    def _status(self) -> None:
        count = self.region_count
        if self.state.whole is not None:
            side = "local" if self.state.whole == "KEEP_LOCAL" else "raven"
            head = f"Whole file: keep {side}"
        elif count:
            decision = self.state.decisions.get(self.current)
            chosen = _LABELS[decision.choice] if decision else "undecided"
            head = f"Region {self.current}/{count}: {chosen}"
        else:
            head = "No regions: choose L or R for the whole file"
        done = self.unresolved == 0
        parts: list[tuple[str, str]] = [
            (head, "bold"),
            ("   unresolved: ", ""),
            (str(self.unresolved), "bold $text-success" if done else "bold $text-error"),
        ]
        if done:
            parts.append(("   ctrl+s saves", "$text-success"))
        self.query_one("#merge-status", Static).update(Content.assemble(*parts))

    @work(exclusive=True, group="preview")
    async def _preview(self) -> None:
        conflict = self.conflict
        if conflict is None:
            return
        if self.state.whole == "KEEP_LOCAL":
            text = conflict.local or ""
        elif self.state.whole == "KEEP_RAVEN":
            text = conflict.remote or ""
        else:
            preview = await self.fetch(
                self.client.apply_decisions(conflict.id, list(self.state.decisions.values())),
                "#result-box",
            )
            if preview is None:
                return
            text = preview.text
        self.result_text = text
        self.query_one("#result", Static).update(render_result(text))

    def _change(self, state: _State) -> None:
        self.undo_stack.append(self.state)
        self.state = state
        self._redraw()
        self._preview()

    @on(MergePane.RegionClicked)
    def _clicked(self, message: MergePane.RegionClicked) -> None:
        if 1 <= message.index <= self.region_count and message.index != self.current:
            self.current = message.index
            self._redraw()

    def action_next(self) -> None:
        if self.current < self.region_count:
            self.current += 1
            self._redraw()

    def action_previous(self) -> None:
        if self.current > 1:
            self.current -= 1
            self._redraw()

    def action_take(self, choice: Choice) -> None:
        if not self.region_count:
            return
        decisions = {**self.state.decisions, self.current: Decision(self.current, choice)}
        self._change(_State(decisions, None))
        self.action_next()

    def action_whole(self, whole: WholeFile) -> None:
        if self.conflict is not None:
            self._change(_State(self.state.decisions, whole))

    def action_undo(self) -> None:
        if self.undo_stack:
            self.state = self.undo_stack.pop()
            self._redraw()
            self._preview()
        else:
            self.notify("Nothing to undo.")

    def action_edit(self) -> None:
        from tui.screens.edit_region import EditRegionScreen

        conflict = self.conflict
        if conflict is None or not self.region_count:
            return
        index = self.current
        region = conflict.regions[index - 1]

        def edited(text: str | None) -> None:
            if text is not None:
                decisions = {**self.state.decisions, index: Decision(index, "EDITED", text)}
                self._change(_State(decisions, None))

        start = starting_text(region, self.state.decisions.get(index))
        self.app.push_screen(EditRegionScreen(region, start), edited)

    def action_back(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        if self.conflict is None:
            return
        if not self.unresolved:
            self._save(with_markers=False)
            return
        question = (
            f"{self.unresolved} of {self.region_count} regions are unresolved. Save the file "
            "with git conflict markers around them? The conflict is then resolved and the "
            "markers become part of the file everywhere it syncs."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._save(with_markers=True)

        self.app.push_screen(
            ConfirmScreen(
                "Save with conflict markers?", question, "Save with markers", "Keep merging"
            ),
            answered,
        )

    @work(exclusive=True, group="save")
    async def _save(self, with_markers: bool) -> None:
        conflict = self.conflict
        assert conflict is not None
        decisions = list(self.state.decisions.values())
        try:
            if self.state.whole is not None:
                await self.client.resolve_conflict(
                    conflict.id, revision=conflict.revision, whole_file=self.state.whole
                )
            elif with_markers:
                # The text stored is the server's own rendering of these decisions,
                # markers included: exactly what the result pane shows.
                preview = await self.client.apply_decisions(conflict.id, decisions)
                await self.client.resolve_conflict(
                    conflict.id, revision=conflict.revision, content=preview.text
                )
            else:
                await self.client.resolve_conflict(
                    conflict.id, revision=conflict.revision, decisions=decisions
                )
        except StaleRevision:
            self.notify(
                "The conflict changed on the server since you opened it; "
                "reloaded it, check the result and save again.",
                title="Not saved",
                severity="warning",
                timeout=10,
            )
            self._load(keep=True)
            return
        except AlreadyResolved:
            self.notify(
                "Somebody resolved this conflict already; nothing was saved.",
                title="Not saved",
                severity="error",
                timeout=10,
            )
            self.dismiss(False)
            return
        except ClientError as error:
            self.report(error)
            return
        self.notify(f"Saved {conflict.path}.")
        self.dismiss(True)
