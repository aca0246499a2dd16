"""What the history screen does beyond browsing: blame (b), undo a resolution (u), pin (p).

A base class of ``HistoryScreen``, kept apart so the screen stays about
showing versions. It reads each version's marks (pinned, pruned, which
conflict it resolved) whenever the list shows new versions, and says in plain
words why a pruned version shows no content or an undo is refused.
"""

from typing import ClassVar

from textual import on, work
from textual.binding import Binding, BindingType

from tui.client import ClientError, HistoryMarks, SourceInfo, VersionInfo
from tui.screens.base import BaseScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.marked_version_list import MarkedVersionList

REFUSALS = {
    "FILE_CHANGED_SINCE_RESOLUTION": (
        "{path} changed after this conflict was resolved; undoing the resolution would "
        "throw that newer work away, so nothing was changed. To go back to older content, "
        "restore that version (R) instead."
    ),
    "STALE_FILE_HASH": (
        "{path} changed since this history was loaded, so nothing was changed. "
        "Reload (r) to see the newest versions, then try again."
    ),
    "CONFLICT_OPEN": (
        "This conflict is already open; nothing was changed. Resolve it from the inbox (i)."
    ),
    "CONFLICT_CONVERGED": (
        "Both sides of this conflict became identical, so there is no choice to undo; "
        "nothing was changed."
    ),
    "HISTORY_INCOMPLETE": (
        "Retention removed versions from before this resolution, so what {path} held "
        "before it cannot be known; nothing was changed. Restore an older version (R) instead."
    ),
}
"""What each refusal of an undo means for the user, and what to do next."""


def pruned_note(seq: int) -> str:
    return (
        f"Version {seq} was pruned by this source's retention policy: its place in "
        "history stays, but its content is no longer kept. Pin a version (p) to keep it."
    )


class HistoryActions(BaseScreen[None]):
    """Needs ``source``, ``path`` and a ``MarkedVersionList`` with the id ``versions``."""

    source: SourceInfo
    path: str
    marks: HistoryMarks | None = None

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "blame", "Blame"),
        Binding("u", "undo_resolution", "Undo resolution"),
        Binding("p", "toggle_pin", "Pin/unpin"),
    ]

    @property
    def _list(self) -> MarkedVersionList:
        return self.query_one("#versions", MarkedVersionList)

    def pruned_note(self, version: VersionInfo) -> str | None:
        """What the lower pane says instead of a pruned version's content; None: not pruned."""
        if self.marks is not None and version.seq in self.marks.pruned:
            return pruned_note(version.seq)
        return None

    # -- marks

    @on(MarkedVersionList.Shown)
    def _versions_shown(self) -> None:
        self.load_marks()

    @work(exclusive=True, group="marks")
    async def load_marks(self) -> None:
        marks = await self.fetch(self.client.history_marks(self.source.id, self.path), "#versions")
        if marks is None:
            return
        self.marks = marks
        self._list.set_marks(marks)

    # -- blame

    def action_blame(self) -> None:
        from tui.screens.blame import BlameScreen

        version = self._list.current
        if version is None:
            return
        if version.hash is None:
            self.notify("This version is the file's deletion: it has no lines to blame.")
        elif self.pruned_note(version) is not None:
            self.notify(pruned_note(version.seq), severity="warning", timeout=8)
        else:
            self.app.push_screen(BlameScreen(self.source, self.path, version))

    # -- pins

    def action_toggle_pin(self) -> None:
        version = self._list.current
        if version is None or self.marks is None:
            return
        if version.hash is None:
            self.notify("A deletion holds no content: there is nothing to pin.")
            return
        self._pin(version, version.seq not in self.marks.pinned)

    @work(exclusive=True, group="pin")
    async def _pin(self, version: VersionInfo, pin: bool) -> None:
        try:
            pinned = await self.client.pin_version(
                self.source.id, self.path, version.seq, pinned=pin
            )
        except ClientError as error:
            self.report(error)
            return
        if pinned:
            self.notify(f"Version {version.seq} is pinned: retention keeps it whatever the policy.")
        else:
            self.notify(f"Version {version.seq} is unpinned: the retention policy decides again.")
        self.load_marks()

    # -- undoing a resolution

    def action_undo_resolution(self) -> None:
        version = self._list.current
        marks = self.marks
        if version is None or marks is None:
            return
        conflict_id = marks.resolutions.get(version.seq)
        if conflict_id is None:
            self.notify(
                f"Version {version.seq} is not a conflict resolution: only a version marked "
                "“resolution” can be undone.",
                severity="warning",
            )
            return
        question = (
            f"The conflict on {self.path} opens again with its base and both sides, and the "
            "file goes back to what it held before the resolution (as a new version: nothing "
            "is lost). Connected folders get that content back."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._reopen(version, conflict_id, marks.current_hash)

        self.app.push_screen(
            ConfirmScreen(
                f"Undo the resolution in version {version.seq}?", question, "Undo", "Cancel"
            ),
            answered,
        )

    @work(exclusive=True, group="reopen")
    async def _reopen(self, version: VersionInfo, conflict_id: str, expected: str | None) -> None:
        try:
            outcome = await self.client.reopen_conflict(conflict_id, expected)
        except ClientError as error:
            refusal = REFUSALS.get(error.code)
            if refusal is None:
                self.report(error)
            else:
                self.notify(
                    refusal.format(path=self.path),
                    title="Resolution not undone",
                    severity="warning",
                    timeout=12,
                )
            return
        self.notify(f"The resolution in version {version.seq} is undone: the conflict is open.")
        self.reload()
        self._offer_merge(outcome.conflict_id)

    def _offer_merge(self, conflict_id: str) -> None:
        from tui.screens.merge import MergeScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.push_screen(MergeScreen(conflict_id), lambda _: self.reload())

        self.app.push_screen(
            ConfirmScreen(
                "Conflict open again",
                f"The conflict on {self.path} is open again. Merge it now? (Later, it waits "
                "in the inbox, i.)",
                "Merge now",
                "Later",
            ),
            answered,
        )
