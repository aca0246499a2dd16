"""A coloured view of a diff between two versions, in the theme's colours."""

from textual.content import Content
from textual.widgets import Static

from tui.client import FileDiff

_STYLE = {
    "insert": "$text-success",
    "delete": "$text-error",
    "header": "bold $text-accent",
    "equal": "",
}
_PREFIX = {"insert": "+", "delete": "-", "header": "", "equal": " "}


def render_diff(diff: FileDiff) -> Content:
    parts: list[tuple[str, str]] = [
        (
            f"{diff.from_hash[:8]} → {diff.to_hash[:8]}   +{diff.insertions} -{diff.deletions}\n",
            "bold",
        )
    ]
    if not diff.lines:
        parts.append(("(no difference)\n", "dim"))
    for line in diff.lines:
        parts.append((_PREFIX.get(line.kind, " ") + line.text + "\n", _STYLE.get(line.kind, "")))
    return Content.assemble(*parts)


class DiffView(Static):
    """Shows nothing until given a diff."""

    def show(self, diff: FileDiff | None) -> None:
        if diff is None:
            self.update(Content.styled("Mark two versions with space to see their diff.", "dim"))
        else:
            self.update(render_diff(diff))
