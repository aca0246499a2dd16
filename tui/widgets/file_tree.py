"""Folders and files of one source, with a state badge per file."""

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.client import FileInfo
from tui.widgets.state_badge import state_badge


class FileTree(Tree[FileInfo | None]):
    """Folder nodes carry ``None``; file leaves carry their ``FileInfo``."""

    @dataclass
    class FileChosen(Message):
        file: FileInfo

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("files", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.files: list[FileInfo] = []
        self.needle = ""

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._restyle())

    def _restyle(self) -> None:
        line = self.cursor_line
        self.show(self.files, self.needle)
        self.cursor_line = line

    def show(self, files: list[FileInfo], needle: str = "") -> None:
        """Rebuild from ``files``, keeping only paths containing ``needle``.

        The cursor stays on the file it was on, so a live reload never moves it.
        """
        current = self.cursor_node.data if self.cursor_node is not None else None
        kept_path = current.path if current is not None else None
        self.files, self.needle = files, needle
        self.clear()
        folders: dict[str, TreeNode[FileInfo | None]] = {"": self.root}
        wanted = needle.lower()
        for file in sorted(files, key=lambda f: f.path):
            if wanted and wanted not in file.path.lower():
                continue
            *dirs, name = file.path.split("/")
            parent = self.root
            prefix = ""
            for part in dirs:
                prefix = f"{prefix}/{part}" if prefix else part
                if prefix not in folders:
                    folders[prefix] = parent.add(Text(part + "/", style="bold"), expand=True)
                parent = folders[prefix]
            label = Text.assemble(name, " ", state_badge(file.state, self.app.theme_variables))
            parent.add_leaf(label, data=file)
        self.root.expand()
        self.cursor_line = 0
        if kept_path is not None:
            for line in range(self.last_line + 1):
                node = self.get_node_at_line(line)
                if node is not None and node.data is not None and node.data.path == kept_path:
                    self.cursor_line = line
                    break

    @on(Tree.NodeSelected)
    def _chosen(self, event: Tree.NodeSelected[FileInfo | None]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.FileChosen(event.node.data))
