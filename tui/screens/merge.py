"""Resolve one conflict region by region; the server computes every result.

Decisions are kept per region number. After a refused save (stale revision)
the conflict is reloaded and the decisions survive if the region count is the
same, since region N then still means the same place in the file.
"""

from dataclasses import dataclass, replace
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
from tui.widgets.result_view import ResultView

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
    current: int = 1
    """The region the user was on when this state was left: undo returns there."""


def _key(region: Region) -> tuple[str, str, str]:
    return (region.base, region.local, region.remote)


def carry_over(old: ConflictDetail, new: ConflictDetail, state: _State) -> tuple[_State, int, int]:
    """The choices of ``state`` that still apply to ``new``, with how many were kept and dropped.

    A region keeps its choice when the new conflict has a region with the same
    base, local and raven lines, whatever its number now; a whole-file choice is
    kept while both sides are unchanged.
    """
    chosen = {_key(old.regions[i - 1]): d for i, d in state.decisions.items()}
    decisions: dict[int, Decision] = {}
    for region in new.regions:
        decision = chosen.get(_key(region))
        if decision is not None:
            decisions[region.index] = Decision(region.index, decision.choice, decision.text)
    whole = state.whole if (old.local, old.remote) == (new.local, new.remote) else None
    kept = len(decisions) + (whole is not None)
    total = len(state.decisions) + (state.whole is not None)
    return _State(decisions, whole), kept, total - kept


class _Pane(VerticalScroll, can_focus=False):
    pass


DELETED = "The file will be deleted (that side deleted it)."


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


def with_final_newline(text: str, region: Region) -> str:
    """A hand edit ends its last line when the region's lines do.

    An editor's trailing empty line is easy to delete by accident; without its
    newline the region would run into the next line and join two paragraphs.
    """
    ends = region.local.endswith("\n") or region.remote.endswith("\n")
    return text + "\n" if text and ends and not text.endswith("\n") else text


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
        self.saving = False
        """True while a save is on its way: ctrl+s is ignored until it answers."""

    def compose(self) -> ComposeResult:
        yield Static("Loading conflict…", id="merge-title", classes="screen-title")
        with Horizontal(id="sides"):
            for side, label in (("local", "local"), ("remote", "raven"), ("base", "base")):
                with Vertical(id=f"side-{side}", classes="side"):
                    yield Static(label, classes="side-label")
                    with _Pane():
                        yield MergePane(side, id=f"pane-{side}")  # type: ignore[arg-type]
        yield Static(id="merge-status")
        yield ResultView(id="result-box")
        yield BottomBar()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Fetch the conflict again, keeping every choice that still applies."""
        self._load()

    @property
    def region_count(self) -> int:
        return len(self.conflict.regions) if self.conflict else 0

    @property
    def deleted_side(self) -> str | None:
        """The side ("local" or "raven") that deleted the file: then no region can be picked."""
        if self.conflict is None:
            return None
        if self.conflict.local is None:
            return "local"
        return "raven" if self.conflict.remote is None else None

    @property
    def unresolved(self) -> int:
        if self.state.whole is not None:
            return 0
        if self.deleted_side is not None:
            return 1  # the one whole-file choice
        return self.region_count - len(self.state.decisions)

    @work(exclusive=True, group="load")
    async def _load(self) -> None:
        conflict = await self.fetch(self.client.conflict(self.conflict_id), "#sides", "#result-box")
        if conflict is None:
            return
        if conflict.status != "OPEN":
            self.notify("This conflict is already resolved.", severity="warning")
            self.dismiss(False)
            return
        if self.conflict is not None:
            self._carry_over(self.conflict, conflict)
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

    def _carry_over(self, old: ConflictDetail, new: ConflictDetail) -> None:
        state, kept, dropped = carry_over(old, new, self.state)
        if dropped:
            self.notify(
                f"The conflict changed: kept {kept} of your choices; "
                f"{dropped} applied to lines that changed and must be made again.",
                timeout=10,
            )
        self.state = state
        self.undo_stack = []
        self.current = min(self.current, max(len(new.regions), 1))

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
        elif self.deleted_side is not None:
            head = f"The {self.deleted_side} side deleted this file: L or R keeps a whole side"
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
        if self.state.whole is not None:
            kept = conflict.local if self.state.whole == "KEEP_LOCAL" else conflict.remote
            self.result_text = kept or ""
            self.query_one(ResultView).show(self.result_text, "" if kept is not None else DELETED)
            return
        preview = await self.fetch(
            self.client.apply_decisions(conflict.id, list(self.state.decisions.values())),
            "#result-box",
        )
        if preview is None:
            return
        text = preview.text
        self.result_text = text
        self.query_one(ResultView).show(text)

    def _change(self, state: _State) -> None:
        self.undo_stack.append(replace(self.state, current=self.current))
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
        if not self._regions_decidable():
            return
        if choice == "BASE" and self.conflict is not None and not self.conflict.base_known:
            self.notify("No common base is known for this conflict.", severity="warning")
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
            self.current = min(self.state.current, max(self.region_count, 1))
            self._redraw()
            self._preview()
        else:
            self.notify("Nothing to undo.")

    def action_edit(self) -> None:
        from tui.screens.edit_region import EditRegionScreen

        conflict = self.conflict
        if conflict is None or not self._regions_decidable():
            return
        index = self.current
        region = conflict.regions[index - 1]

        def edited(text: str | None) -> None:
            if text is not None:
                text = with_final_newline(text, region)
                decisions = {**self.state.decisions, index: Decision(index, "EDITED", text)}
                self._change(_State(decisions, None))

        start = starting_text(region, self.state.decisions.get(index))
        self.app.push_screen(EditRegionScreen(region, start), edited)

    def _regions_decidable(self) -> bool:
        """Region choices need both sides; one that deleted the file leaves whole-file keeps."""
        if not self.region_count:
            return False
        if self.deleted_side is not None:
            self.notify(
                f"The {self.deleted_side} side deleted this file: "
                "keep the whole local (L) or raven (R) file.",
                severity="warning",
            )
            return False
        return True

    def action_back(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        if self.conflict is None:
            return
        if self.saving:
            return  # a second ctrl+s would cancel a save the server may have made
        if not self.unresolved:
            self._save(with_markers=False)
            return
        if self.deleted_side is not None:
            self._regions_decidable()  # says why: only a whole-file choice can resolve this
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
        self.saving = True
        try:
            with self.busy("#result-box"):
                await self._send(conflict, with_markers)
        except StaleRevision:
            self.notify(
                "The conflict changed on the server since you opened it; "
                "reloaded it, check the result and save again.",
                title="Not saved",
                severity="warning",
                timeout=10,
            )
            self._load()
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
        finally:
            self.saving = False
        self.notify(f"Saved {conflict.path}.")
        self.dismiss(True)

    async def _send(self, conflict: ConflictDetail, with_markers: bool) -> None:
        decisions = list(self.state.decisions.values())
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
