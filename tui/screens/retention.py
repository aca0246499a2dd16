"""A source's retention policy, shown and set in a small form (t on the sources screen).

The numbers are checked here first, so a typo gets a sentence about the field
rather than a GraphQL type error (a 20-digit number is no GraphQL ``Int``);
the server checks them again and its refusal shows in the same place.
"""

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from tui.client import ClientError, RetentionInfo, RetentionKind, SourceInfo
from tui.screens.base import FATAL

if TYPE_CHECKING:
    from tui.app import LocalSyncApp

MAX_KEEP_LAST = 1_000_000
MIN_AGE_DAYS, MAX_AGE_DAYS = 30, 100 * 365
DEFAULT_KEEP_LAST, DEFAULT_AGE_DAYS = 50, 365
"""What the fields start with when the policy does not use them yet."""

KINDS: tuple[tuple[RetentionKind, str], ...] = (
    ("ALL", "Keep every version"),
    ("LAST", "Keep the newest N versions of each file"),
    ("STAGGERED", "Staggered: thinned out as they age, none past a maximum age"),
)
PROTECTED = (
    "Staggered keeps every version for a day, the newest of each day for 30 days, then "
    "the newest of each week up to the maximum age. Whatever the policy, the current "
    "version, pinned versions and what an open conflict needs are kept. Pruning happens "
    "at the next garbage collection."
)


class RetentionError(ValueError):
    """A field's value that cannot be a policy; the message says which and why."""


def whole_number(text: str, field: str, low: int, high: int) -> int:
    """``text`` as a whole number from ``low`` to ``high``, or a sentence saying what is wrong."""
    value = text.strip().replace(",", "").replace("_", "")
    digits = value.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise RetentionError(f"{field} must be a whole number from {low:,} to {high:,}.")
    # Past a dozen digits the number is out of range anyway (and int() of thousands
    # of digits is refused by Python itself).
    number = int(value) if len(digits) <= 12 else (high + 1) * (-1 if value[0] == "-" else 1)
    if number < low:
        raise RetentionError(f"{field} must be at least {low:,}; {value} is too small.")
    if number > high:
        raise RetentionError(f"{field} must be at most {high:,}; {value} is too large.")
    return number


def policy_from(kind: RetentionKind, keep_last: str, max_age: str) -> RetentionInfo:
    """The policy the form describes; only the field the kind uses is read."""
    if kind == "LAST":
        n = whole_number(keep_last, "Versions to keep", 1, MAX_KEEP_LAST)
        return RetentionInfo("LAST", n, None)
    if kind == "STAGGERED":
        days = whole_number(max_age, "Maximum age in days", MIN_AGE_DAYS, MAX_AGE_DAYS)
        return RetentionInfo("STAGGERED", None, days)
    return RetentionInfo("ALL", None, None)


def describe(policy: RetentionInfo) -> str:
    """The policy in a sentence: what the source keeps."""
    if policy.kind == "LAST":
        return f"keeps the newest {policy.keep_last:,} versions of each file"
    if policy.kind == "STAGGERED":
        return f"thins out versions and keeps none older than {policy.max_age_days:,} days"
    return "keeps every version"


class RetentionScreen(ModalScreen[RetentionInfo | None]):
    """Dismissed with the stored policy once saved, ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    DEFAULT_CSS = """
    RetentionScreen {
        align: center middle;
    }
    RetentionScreen #retention-box {
        width: 76;
        height: auto;
        padding: 1 2;
        border: round $primary;
        background: $surface;
    }
    RetentionScreen #retention-title {
        text-style: bold;
        margin-bottom: 1;
    }
    RetentionScreen .retention-field {
        height: auto;
    }
    RetentionScreen .retention-field Label {
        width: 24;
        padding: 1 1 0 0;
    }
    RetentionScreen .retention-field Input {
        width: 16;
    }
    RetentionScreen #retention-error {
        color: $text-error;
        height: auto;
        margin-top: 1;
    }
    RetentionScreen #retention-note {
        color: $text-muted;
        margin-top: 1;
    }
    RetentionScreen #retention-buttons {
        height: auto;
        margin-top: 1;
    }
    """

    def __init__(self, source: SourceInfo) -> None:
        super().__init__()
        self.source = source
        self.policy: RetentionInfo | None = None
        """The stored policy, once loaded."""

    def compose(self) -> ComposeResult:
        with Vertical(id="retention-box"):
            yield Static(f"What {self.source.name} keeps", id="retention-title")
            with RadioSet(id="retention-kind"):
                for kind, label in KINDS:
                    yield RadioButton(label, id=f"kind-{kind.lower()}")
            with Horizontal(classes="retention-field"):
                yield Label("Versions to keep (N)")
                yield Input(str(DEFAULT_KEEP_LAST), id="keep-last")
            with Horizontal(classes="retention-field"):
                yield Label("Maximum age in days")
                yield Input(str(DEFAULT_AGE_DAYS), id="max-age")
            yield Static(id="retention-error")
            yield Static(PROTECTED, id="retention-note")
            with Horizontal(id="retention-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#retention-box").loading = True
        self._load()

    @work(exclusive=True, group="retention")
    async def _load(self) -> None:
        try:
            policy = await self.localsync.client.retention(self.source.id)
        except ClientError as error:
            self.dismiss(None)
            if not self._failed(error):
                self.notify(error.message, title=error.title, severity="error", timeout=10)
            return
        self.policy = policy
        self.query_one(f"#kind-{policy.kind.lower()}", RadioButton).value = True
        if policy.keep_last is not None:
            self.query_one("#keep-last", Input).value = str(policy.keep_last)
        if policy.max_age_days is not None:
            self.query_one("#max-age", Input).value = str(policy.max_age_days)
        self.query_one("#retention-box").loading = False
        self._enable_fields()
        self.query_one("#retention-kind", RadioSet).focus()

    @property
    def localsync(self) -> "LocalSyncApp":
        return cast("LocalSyncApp", self.app)

    def _failed(self, error: ClientError) -> bool:
        """Connection and auth failures go to the connect screen (True); others stay here."""
        if isinstance(error, FATAL):
            self.localsync.connection_failed(error)
            return True
        return False

    @property
    def kind(self) -> RetentionKind:
        pressed = self.query_one("#retention-kind", RadioSet).pressed_index
        return KINDS[max(pressed, 0)][0]

    @on(RadioSet.Changed)
    def _enable_fields(self) -> None:
        self.query_one("#keep-last", Input).disabled = self.kind != "LAST"
        self.query_one("#max-age", Input).disabled = self.kind != "STAGGERED"
        self.query_one("#retention-error", Static).update("")

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        if self.policy is None:
            return  # not loaded yet
        try:
            wanted = policy_from(
                self.kind,
                self.query_one("#keep-last", Input).value,
                self.query_one("#max-age", Input).value,
            )
        except RetentionError as error:
            self.query_one("#retention-error", Static).update(str(error))
            return
        self._save(wanted)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="retention")
    async def _save(self, wanted: RetentionInfo) -> None:
        try:
            stored = await self.localsync.client.set_retention(
                self.source.id,
                wanted.kind,
                keep_last=wanted.keep_last,
                max_age_days=wanted.max_age_days,
            )
        except ClientError as error:
            if not self._failed(error):
                self.query_one("#retention-error", Static).update(f"Not saved: {error.message}")
            return
        self.notify(f"Saved: {self.source.name} {describe(stored)}.")
        self.dismiss(stored)
