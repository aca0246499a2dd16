"""A coloured view of a diff between two versions."""

from rich.text import Text
from textual.widgets import Static

from tui.client import FileDiff

_STYLE = {"insert": "green", "delete": "red", "header": "bold cyan", "equal": ""}
_PREFIX = {"insert": "+", "delete": "-", "header": "", "equal": " "}


def render_diff(diff: FileDiff) -> Text:
    text = Text()
    text.append(
        f"{diff.from_hash[:8]} → {diff.to_hash[:8]}   +{diff.insertions} -{diff.deletions}\n",
        style="bold",
    )
    if not diff.lines:
        text.append("(no difference)\n", style="dim")
    for line in diff.lines:
        text.append(_PREFIX.get(line.kind, " ") + line.text + "\n", style=_STYLE.get(line.kind))
    return text


class DiffView(Static):
    """Shows nothing until given a diff."""

    def show(self, diff: FileDiff | None) -> None:
        if diff is None:
            self.update(Text("Mark two versions with space to see their diff.", style="dim"))
        else:
            self.update(render_diff(diff))
