"""Edit one merge region by hand, in a pop-up or in the user's own editor.

The pop-up covers the merge panes, so it shows the region's local and raven
lines above the editor, each side its own text with its changed words
highlighted: the person writing the result sees both sides they combine.
Dismissed with the text, or ``None`` if cancelled; escape cancels the pop-up
only, never the merge behind it.

``$VISUAL``/``$EDITOR`` gets a file in git's diff3 style (local, base, raven
between conflict markers), so the base is at hand in any editor; the text it
is saved with becomes the region, unless markers are left in it.
"""

import asyncio
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

from tui.client import Region
from tui.widgets.merge_rows import Side, region_ranges

MARKERS = ("<<<<<<<", "|||||||", "=======", ">>>>>>>")
LABEL_STYLE: dict[Side, str] = {
    "local": "bold $text-primary",
    "remote": "bold $text-secondary",
    "base": "bold $text-warning",
}
WORD = "bold $text-success on $success-muted"
"""The words a side changed, on that side's own text."""
EMPTY = "italic $text-muted"


def render_side(region: Region, side: Side, show_base: bool, words: bool = True) -> Content:
    """The region's lines on ``side`` alone, its changed words highlighted."""
    text = {"local": region.local, "remote": region.remote, "base": region.base}[side]
    lines = text.splitlines()
    if not lines:
        return Content.styled("(no lines here: this side removed them)", EMPTY)
    out: list[Content] = []
    for offset, line in enumerate(lines):
        ranges = region_ranges(show_base, region, offset, side, line) if words else []
        parts: list[tuple[str, str]] = []
        at = 0
        for start, end in ranges:
            parts += [(line[at:start], ""), (line[start:end], WORD)]
            at = end
        parts.append((line[at:], ""))
        out.append(Content.assemble(*parts))
    return Content("\n").join(out)


class EditRegionScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "done", "Use this text", priority=True),
        Binding("escape", "cancel", "Cancel the edit"),
    ]

    def __init__(
        self, region: Region, text: str, labels: tuple[str, str] = ("local", "raven")
    ) -> None:
        super().__init__()
        self.conflict_region = region
        self.text = text
        self.labels = labels

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-box"):
            yield Static(
                f"Region {self.conflict_region.index}: edit, then ctrl+s "
                "(escape cancels this edit only)"
            )
            with Horizontal(id="edit-sides"):
                for side, label in zip(("local", "remote"), self.labels, strict=True):
                    with VerticalScroll(classes="edit-side"):
                        yield Static(Content.styled(label, LABEL_STYLE[side]))  # type: ignore[index]
                        yield Static(render_side(self.conflict_region, side, True))  # type: ignore[arg-type]
            yield TextArea(self.text, id="edit-text", soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        area = self.query_one("#edit-text", TextArea)
        area.cursor_blink = False
        area.focus()

    def action_done(self) -> None:
        self.dismiss(self.query_one("#edit-text", TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---- the user's own editor -------------------------------------------------------------


def diff3_text(region: Region, labels: tuple[str, str], eol: str = "\n") -> str:
    """The region as git writes a diff3 conflict: local, base, raven, between markers."""

    def block(text: str) -> str:
        return text if not text or text.endswith("\n") else text + eol

    return "".join(
        (
            f"<<<<<<< {labels[0]}{eol}",
            block(region.local),
            f"||||||| base{eol}",
            block(region.base),
            f"======={eol}",
            block(region.remote),
            f">>>>>>> {labels[1]}{eol}",
        )
    )


def has_markers(text: str) -> bool:
    return any(line.startswith(MARKERS) for line in text.splitlines())


def editor_command() -> list[str]:
    """The user's editor, as git picks it: ``$VISUAL``, then ``$EDITOR``, then vi."""
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


async def edit_externally(app: App[object], text: str, name: str) -> str | None:
    """Open ``text`` in the user's editor; the saved text, or None if it stayed the same.

    The terminal belongs to the editor meanwhile, so the app is suspended; where
    it cannot be (no terminal, as in a headless run) the editor runs alongside.
    Raises ``OSError`` when the editor cannot be started.
    """
    with tempfile.TemporaryDirectory(prefix="localsync-merge-") as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8", newline="")
        command = [*editor_command(), str(path)]
        try:
            with app.suspend():
                subprocess.run(command, check=False)
        except SuspendNotSupported:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await process.wait()
        with path.open(encoding="utf-8", newline="") as saved:
            edited = saved.read()
    return None if edited == text else edited
