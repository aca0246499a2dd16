"""Resolve one conflict region by region; the server computes every result.

The three versions sit side by side in one aligned view (``MergeView``), the
result below it (``ResultView``); both draw only what is on screen, and the
rows are built in a worker thread, so no file is too long for a key.

Decisions are kept per region number and written to a local draft as they are
made (``tui.drafts``): leaving asks what to do with them, and a draft survives
a restart. After a refused save (stale revision) the conflict is reloaded and
every choice whose region still has the same lines is kept.
"""

import asyncio
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import ClassVar
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
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
from tui.clock import age
from tui.drafts import Draft, DraftStore
from tui.screens.base import BaseScreen
from tui.screens.binary_conflict import BinaryConflictScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.edit_region import diff3_text, edit_externally, has_markers
from tui.screens.leave_merge import Leave, LeaveMergeScreen
from tui.widgets.bottom_bar import BottomBar
from tui.widgets.merge_result import LocalResult
from tui.widgets.merge_rows import MergeDoc, build_doc
from tui.widgets.merge_view import MergeView, column_widths
from tui.widgets.result_view import ResultView, stretches

_LABELS: dict[Choice, str] = {
    "LOCAL": "local",
    "RAVEN": "raven",
    "BOTH_LOCAL_FIRST": "both, local first",
    "BOTH_RAVEN_FIRST": "both, raven first",
    "BASE": "base",
    "EDITED": "edited by hand",
}
_REASONS = {
    "stale_base": "both sides changed the file since they last agreed",
    "edit_delete": "one side edited the file, the other deleted it",
    "no_base": "no common version is known",
    "merge_conflict": "both sides changed the same lines",
}
TOO_MUCH = ("QUERY_TOO_COSTLY", "RESPONSE_TOO_LARGE")
DELETED = "The file will be deleted (that side deleted it)."
CONFIRM_DELAY = 0.15
"""Seconds a result drawn locally waits before the server is asked to confirm it."""


@dataclass(frozen=True)
class _State:
    decisions: dict[int, Decision]
    whole: WholeFile | None
    current: int = 1
    """The region the user was on when this state was left: undo returns there."""
    edited: str | None = None
    """The whole result as edited by hand; it replaces every region choice."""


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


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def too_much_message(error: ClientError) -> str:
    """A dense merge the server refused as too big to send: what happened and what to do."""
    return (
        "This merge is too large for the server to send at once "
        f"({error.code.replace('_', ' ').lower()}). Word highlights were left out; if it "
        "still fails, keep one whole side (L or R) and finish the merge in your editor "
        "(ctrl+e), or ask the server's operator to raise its GraphQL limits."
    )


def _prepare(conflict: ConflictDetail) -> tuple[MergeDoc, LocalResult]:
    """The rows and the result renderer: linear in the file, so built off the event loop."""
    renderer = LocalResult(conflict.base, conflict.local, conflict.remote, conflict.spans)
    return build_doc(conflict), renderer


class MergeScreen(BaseScreen[bool]):
    """Dismissed with ``True`` once saved."""

    help_title = "merge"

    DEFAULT_CSS = """
    MergeScreen #merge-where { height: 1; padding: 0 1; color: $text-muted; }
    MergeScreen #merge-labels { height: 1; }
    MergeScreen #sides { height: 3fr; }
    MergeScreen #merge-status { height: auto; }
    MergeScreen #result-box { height: 2fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "back", "Back"),
        Binding("down,j,l", "next", "Next region"),
        Binding("up,k,h", "previous", "Previous region"),
        Binding("n", "next_unresolved", "Next unresolved"),
        Binding("p", "previous_unresolved", "Previous unresolved"),
        Binding("space,1", "take('LOCAL')", "Local"),
        Binding("2", "take('RAVEN')", "Raven"),
        Binding("b", "take('BOTH_LOCAL_FIRST')", "Both (local first)"),
        Binding("B", "take('BOTH_RAVEN_FIRST')", "Both (raven first)"),
        Binding("0", "take('BASE')", "Base"),
        Binding("a", "take_rest('LOCAL')", "All remaining: local"),
        Binding("A", "take_rest('RAVEN')", "All remaining: raven"),
        Binding("e", "edit", "Edit region"),
        Binding("E", "edit_outside", "Region in $EDITOR"),
        Binding("ctrl+e", "edit_result", "Result in $EDITOR"),
        Binding("w", "toggle_words", "Word highlights"),
        Binding("z", "undo", "Undo"),
        Binding("L", "whole('KEEP_LOCAL')", "Keep local file"),
        Binding("R", "whole('KEEP_RAVEN')", "Keep raven file"),
        Binding("ctrl+s", "save", "Save"),
    ]
    footer_keys = ("take('LOCAL')", "take('RAVEN')", "next", "save", "edit", "undo", "back")
    """What a merge needs most, first: the footer keeps those that fit (all at 120 columns)."""

    def __init__(self, conflict_id: str, drafts: DraftStore | None = None) -> None:
        super().__init__()
        self.conflict_id = conflict_id
        self.conflict: ConflictDetail | None = None
        self.doc: MergeDoc | None = None
        self.state = _State({}, None)
        self.undo_stack: list[_State] = []
        self.current = 1
        self.result_text = ""
        self.saving = False
        """True while a save is on its way: ctrl+s is ignored until it answers."""
        self.drafts = drafts
        self.server_label = ""
        """How the header names the server: its host and port."""
        self.side_names = ("local", "Raven")
        """Where each side came from: the connector's name, and Raven."""
        self.restored: Draft | None = None
        self.renderer: LocalResult | None = None
        self.server_result: tuple[str, dict[int, tuple[int, int]]] | None = None
        """The server's last result and where its regions sit."""
        self.confirmed = False
        """Whether the result shown is the server's answer for the current choices."""

    def compose(self) -> ComposeResult:
        yield Static("Loading conflict…", id="merge-title", classes="screen-title")
        yield Static(id="merge-where")
        yield Static(id="merge-labels")
        yield MergeView(id="sides")
        yield Static(id="merge-status")
        yield ResultView(id="result-box")
        yield BottomBar()

    def on_mount(self) -> None:
        if self.drafts is None:
            self.drafts = DraftStore(self.client.server, self.client.workspace)
        if not self.server_label:
            self.server_label = urlsplit(self.client.server).netloc or self.client.server
        self.query_one(ResultView).border_title = "Result"
        self.query_one(MergeView).focus()
        self.reload()

    def reload(self) -> None:
        """Fetch the conflict again, keeping every choice that still applies."""
        self._load()

    # -- facts about the state

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
        if self.state.whole is not None or self.state.edited is not None:
            return 0
        if self.deleted_side is not None:
            return 1  # the one whole-file choice
        return self.region_count - len(self.state.decisions)

    @property
    def has_work(self) -> bool:
        state = self.state
        return bool(state.decisions) or state.whole is not None or state.edited is not None

    def _open_regions(self) -> list[int]:
        return [i for i in range(1, self.region_count + 1) if i not in self.state.decisions]

    # -- loading

    @work(exclusive=True, group="load")
    async def _load(self) -> None:
        conflict = await self._fetch_conflict()
        if conflict is None:
            return
        if conflict.status != "OPEN":
            assert self.drafts is not None
            self.drafts.drop_soon(self.conflict_id)
            self.notify("This conflict is already resolved.", severity="warning")
            self.dismiss(False)
            return
        if conflict.binary:  # bytes have no lines to merge: a side, or both, is the choice
            self.app.push_screen(
                BinaryConflictScreen(conflict), lambda done: self.dismiss(bool(done))
            )
            return
        doc, renderer = await asyncio.to_thread(_prepare, conflict)
        if not self.is_attached:
            return
        first = self.conflict is None
        if not first and self.conflict is not None:
            self._carry_over(self.conflict, conflict)
        self.conflict, self.doc, self.renderer = conflict, doc, renderer
        self.server_result = None
        self.side_names = conflict.authors
        if first:
            self._restore_draft(conflict)
        self._title()
        self.query_one(MergeView).show(doc)
        self._redraw()
        self._preview()
        self._keep_draft()

    async def _fetch_conflict(self) -> ConflictDetail | None:
        """The conflict with word changes, or without them when it is too much at once."""
        try:
            with self.busy("#sides", "#result-box"):
                try:
                    return await self.client.conflict(self.conflict_id)
                except ClientError as error:
                    if error.code not in TOO_MUCH:
                        raise
                    self.notify(too_much_message(error), title="Large merge", timeout=15)
                    return await self.client.conflict(self.conflict_id, word_changes=False)
        except ClientError as error:
            if error.code in TOO_MUCH:
                self._refused(error)
            else:
                self.report(error)
            return None

    def _refused(self, error: ClientError) -> None:
        message = (
            "The server could not send this merge: it is larger than the server sends "
            f"in one answer ({error.code.replace('_', ' ').lower()}). Nothing was changed. "
            "Ask the server's operator to raise LOCALSYNC_GRAPHQL_MAX_RESPONSE_BYTES or "
            "LOCALSYNC_GRAPHQL_MAX_COST, or resolve the conflict from the connector's folder."
        )
        self.query_one("#merge-title", Static).update(Content.styled(message, "$text-error"))

    def _restore_draft(self, conflict: ConflictDetail) -> None:
        assert self.drafts is not None
        draft = self.drafts.load(conflict.id, conflict.revision)
        if draft is None:
            return
        decisions = {d.index: d for d in draft.decisions if 1 <= d.index <= len(conflict.regions)}
        self.state = _State(decisions, draft.whole, edited=draft.edited)
        self.current = min(max(draft.current, 1), max(len(conflict.regions), 1))
        self.restored = draft
        self.notify(
            f"Restored your unsaved draft ({plural(len(decisions), 'choice')}).",
            title="Draft",
        )

    def _title(self) -> None:
        conflict = self.conflict
        if conflict is None:
            return
        reason = _REASONS.get(conflict.reason, conflict.reason.replace("_", " "))
        opened = ""
        if conflict.created_at is not None:
            opened = f" · opened {age(conflict.created_at, self.localsync.clock())} ago"
        self.query_one("#merge-title", Static).update(
            Text.assemble(
                ("Merge ", "bold"),
                (conflict.path, "bold"),
                f" · {reason} · ",
                (plural(self.region_count, "region"), "bold"),
            )
        )
        where = f"{self.server_label} · workspace {self.client.workspace}{opened}"
        self.query_one("#merge-where", Static).update(where)
        self._labels()

    def _labels(self) -> None:
        """Column titles, as wide as the columns the view draws below them."""
        view = self.query_one(MergeView)
        local, remote = self.side_names
        titles = [
            (f"Local: {local}", "bold $text-primary"),
            ("Raven" if remote == "Raven" else f"Raven side: {remote}", "bold $text-secondary"),
            ("Base (the last common version)", "bold $text-warning"),
        ][: view.columns]
        widths = column_widths(
            view.scrollable_content_region.width or self.size.width, view.columns
        )
        parts: list[tuple[str, str]] = []
        for k, ((title, style), width) in enumerate(zip(titles, widths, strict=True)):
            if k:
                parts.append(("│", "$text-muted"))
            parts.append((f" {title}"[:width].ljust(width), style))
        self.query_one("#merge-labels", Static).update(Content.assemble(*parts))

    def on_resize(self) -> None:
        self.call_after_refresh(self._labels)

    @on(MergeView.LaidOut)
    def _laid_out(self) -> None:
        self._labels()

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

    # -- drawing

    def _redraw(self) -> None:
        if self.conflict is None:
            return
        decided = self._decided_names()
        self.query_one(MergeView).mark(self.current, decided)
        result = self.query_one(ResultView)
        result.mark(self.current, set(decided))
        result.follow(self.current)
        self._status()

    def _decided_names(self) -> dict[int, str]:
        if self.state.whole is not None or self.state.edited is not None:
            return {}
        return {i: _LABELS[d.choice] for i, d in self.state.decisions.items()}

    def _status(self) -> None:
        count = self.region_count
        if self.state.edited is not None:
            head = "Result edited by hand: it replaces the region choices (z undoes)"
        elif self.state.whole is not None:
            side = "local" if self.state.whole == "KEEP_LOCAL" else "raven"
            head = f"Whole file: keep {side}"
        elif self.deleted_side is not None:
            head = f"The {self.deleted_side} side deleted this file: L or R keeps a whole side"
        elif count:
            decision = self.state.decisions.get(self.current)
            chosen = _LABELS[decision.choice] if decision else "undecided"
            head = f"Region {self.current} of {count}: {chosen}"
        else:
            head = "No regions: choose L or R for the whole file"
        unresolved = self.unresolved
        done = unresolved == 0
        parts: list[tuple[str, str]] = [
            (head, "bold"),
            ("   ", ""),
            (
                "all resolved" if done else f"{plural(unresolved, 'region')} left",
                "bold $text-success" if done else "bold $text-error",
            ),
        ]
        if done:
            parts.append(("   ctrl+s saves", "$text-success"))
        parts.append(("   L R = auto-merged from local/raven, = both", "$text-muted"))
        self.query_one("#merge-status", Static).update(Content.assemble(*parts))

    @work(exclusive=True, group="preview")
    async def _preview(self) -> None:
        conflict = self.conflict
        if conflict is None:
            return
        view = self.query_one(ResultView)
        if self.state.edited is not None:
            self.result_text = self.state.edited
            view.show(self.result_text)
            return
        if self.state.whole is not None:
            kept = conflict.local if self.state.whole == "KEEP_LOCAL" else conflict.remote
            self.result_text = kept or ""
            view.show(self.result_text, "" if kept is not None else DELETED)
            return
        self.confirmed = False
        decisions = dict(self.state.decisions)
        local = self.renderer.render(decisions, self.server_result) if self.renderer else None
        if local is not None:  # shown at once; the server's answer follows
            self._show_result(conflict, *local)
            # Let the frame with it be drawn, and a quick run of choices end, before
            # a request (which takes the loop for a while to set up) confirms it.
            await asyncio.sleep(CONFIRM_DELAY)
        preview = await self.fetch(
            self.client.apply_decisions(conflict.id, list(decisions.values())),
            *(() if local is not None else ("#result-box",)),
        )
        if preview is None:
            return
        self.server_result = (preview.text, preview.regions)
        if local is None or local != self.server_result:
            self._show_result(conflict, preview.text, preview.regions)
        self.confirmed = True

    def _show_result(
        self, conflict: ConflictDetail, text: str, regions: dict[int, tuple[int, int]]
    ) -> None:
        self.result_text = text
        view = self.query_one(ResultView)
        view.show(text, stretches=stretches(conflict.spans, regions))
        view.follow(self.current)

    # -- changes

    def _change(self, state: _State) -> None:
        self.undo_stack.append(replace(self.state, current=self.current))
        self.state = state
        self._redraw()
        self._preview()
        self._keep_draft()

    def _keep_draft(self) -> None:
        """Write the choices to the local draft; an empty state leaves no draft."""
        conflict, drafts = self.conflict, self.drafts
        if conflict is None or drafts is None:
            return
        state = self.state
        draft = Draft(
            revision=conflict.revision,
            decisions=list(state.decisions.values()),
            whole=state.whole,
            edited=state.edited,
            current=self.current,
            saved_at=self.localsync.clock().isoformat(),
        )
        drafts.save_soon(conflict.id, draft).add_done_callback(self._draft_written)

    def _draft_written(self, written: "Future[None]") -> None:
        error = written.exception()
        if error is not None:  # on the writer thread: tell the user from the app's
            self.app.call_from_thread(
                self.notify, f"Could not keep a draft: {error}", severity="warning"
            )

    def on_unmount(self) -> None:
        if self.drafts is not None:
            self.drafts.close()  # the draft is on disk before the screen is gone

    @on(MergeView.RegionClicked)
    def _clicked(self, message: MergeView.RegionClicked) -> None:
        if 1 <= message.index <= self.region_count and message.index != self.current:
            self._go(message.index)

    def _go(self, index: int) -> None:
        self.current = index
        self._redraw()

    def action_next(self) -> None:
        if self.doc is not None and self.current < self.region_count:
            self._go(self.current + 1)

    def action_previous(self) -> None:
        if self.doc is not None and self.current > 1:
            self._go(self.current - 1)

    def action_next_unresolved(self) -> None:
        self._jump(after=True)

    def action_previous_unresolved(self) -> None:
        self._jump(after=False)

    def _jump(self, after: bool) -> None:
        if self.doc is None:
            return
        open_ = self._open_regions()
        if not open_:
            self.notify("Every region is decided.")
            return
        ahead = [i for i in open_ if (i > self.current if after else i < self.current)]
        # Wrap around, as a search does: the first open region from the other end.
        target = (ahead[0] if after else ahead[-1]) if ahead else (open_[0] if after else open_[-1])
        self._go(target)

    def action_take(self, choice: Choice) -> None:
        if self.doc is None or not self._regions_decidable():
            return
        if choice == "BASE" and self.conflict is not None and not self.conflict.base_known:
            self.notify("No common base is known for this conflict.", severity="warning")
            return
        decisions = {**self.state.decisions, self.current: Decision(self.current, choice)}
        self._change(_State(decisions, None))
        self.action_next()

    def action_take_rest(self, choice: Choice) -> None:
        """Every undecided region from one side; choices already made stay."""
        if self.doc is None or not self._regions_decidable():
            return
        rest = self._open_regions()
        if not rest:
            self.notify("Every region is decided already.")
            return
        decisions = dict(self.state.decisions)
        decisions.update({i: Decision(i, choice) for i in rest})
        self._change(_State(decisions, None))
        name = _LABELS[choice]
        self.notify(f"Took {name} for {plural(len(rest), 'remaining region')}.")

    def action_whole(self, whole: WholeFile) -> None:
        if self.conflict is not None and self.doc is not None:
            self._change(_State(self.state.decisions, whole))

    def action_toggle_words(self) -> None:
        shown = self.query_one(MergeView).toggle_words()
        self.notify("Word highlights on." if shown else "Word highlights off.")

    def action_undo(self) -> None:
        if self.undo_stack:
            self.state = self.undo_stack.pop()
            self.current = min(self.state.current, max(self.region_count, 1))
            self._redraw()
            self._preview()
            self._keep_draft()
        else:
            self.notify("Nothing to undo.")

    def action_edit(self) -> None:
        from tui.screens.edit_region import EditRegionScreen

        conflict = self.conflict
        if conflict is None or self.doc is None or not self._regions_decidable():
            return
        index = self.current
        region = conflict.regions[index - 1]

        def edited(text: str | None) -> None:
            if text is not None:
                self._edited(index, region, text)

        start = starting_text(region, self.state.decisions.get(index))
        labels = (f"local: {self.side_names[0]}", f"raven: {self.side_names[1]}")
        self.app.push_screen(EditRegionScreen(region, start, labels), edited)

    def _edited(self, index: int, region: Region, text: str) -> None:
        text = with_final_newline(text, region)
        decisions = {**self.state.decisions, index: Decision(index, "EDITED", text)}
        self._change(_State(decisions, None))

    def action_edit_outside(self) -> None:
        conflict = self.conflict
        if conflict is None or self.doc is None or not self._regions_decidable():
            return
        self._edit_region_outside(self.current, conflict.regions[self.current - 1])

    @work(exclusive=True, group="editor")
    async def _edit_region_outside(self, index: int, region: Region) -> None:
        decision = self.state.decisions.get(index)
        labels = (f"local ({self.side_names[0]})", f"raven ({self.side_names[1]})")
        if decision is not None and decision.choice == "EDITED":
            start = decision.text or ""
        else:
            start = diff3_text(region, labels)
        text = await self._run_editor(start, f"region-{index}.md")
        if text is None:
            return
        if has_markers(text):
            self.notify(
                "The edited region still has conflict markers; nothing was changed. "
                "Keep the lines you want and delete the marker lines.",
                severity="warning",
                timeout=10,
            )
            return
        self._edited(index, region, text)

    def action_edit_result(self) -> None:
        if self.conflict is not None and self.doc is not None:
            self._edit_result_outside()

    @work(exclusive=True, group="editor")
    async def _edit_result_outside(self) -> None:
        conflict = self.conflict
        assert conflict is not None
        name = conflict.path.rsplit("/", 1)[-1]
        text = await self._run_editor(self.result_text, name)
        if text is None:
            return
        self._change(_State(self.state.decisions, None, edited=text))
        if has_markers(text):
            self.notify("The result still has conflict markers.", severity="warning")

    async def _run_editor(self, text: str, name: str) -> str | None:
        try:
            return await edit_externally(self.app, text, name)
        except OSError as error:
            self.notify(
                f"Could not start your editor ({error}). Set $EDITOR to the editor you use.",
                title="No editor",
                severity="error",
                timeout=10,
            )
            return None

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

    # -- leaving and saving

    def action_back(self) -> None:
        if not self.has_work:
            self.dismiss(False)
            return
        choices = len(self.state.decisions) if self.state.whole is None else 1

        def answered(answer: Leave | None) -> None:
            if answer == "save":
                self.action_save()
            elif answer == "draft":
                self._keep_draft()
                self.notify("Kept your choices as a draft; open the conflict to go on.")
                self.dismiss(False)
            elif answer == "discard":
                if self.drafts is not None and self.conflict is not None:
                    self.drafts.drop_soon(self.conflict.id)
                self.dismiss(False)

        self.app.push_screen(LeaveMergeScreen(max(choices, 1)), answered)

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
            f"{self.unresolved} of {plural(self.region_count, 'region')} still undecided. "
            "Save the file with git conflict markers around them? The conflict is then "
            "resolved and the markers become part of the file everywhere it syncs."
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
            self._drop_draft()
            self.dismiss(False)
            return
        except ClientError as error:
            self.report(error)
            return
        finally:
            self.saving = False
        self._drop_draft()
        self.notify(f"Saved {conflict.path}.")
        self.dismiss(True)

    def _drop_draft(self) -> None:
        if self.drafts is not None:
            self.drafts.drop_soon(self.conflict_id)

    async def _send(self, conflict: ConflictDetail, with_markers: bool) -> None:
        decisions = list(self.state.decisions.values())
        if self.state.edited is not None:
            await self.client.resolve_conflict(
                conflict.id, revision=conflict.revision, content=self.state.edited
            )
        elif self.state.whole is not None:
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
