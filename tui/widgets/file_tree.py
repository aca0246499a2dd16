"""Folders and files of one source, with a state badge per file."""

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import NodeID, TreeNode

from tui.client import FileInfo
from tui.widgets.state_badge import state_badge


class FileTree(Tree[FileInfo | None]):
    """Folder nodes carry ``None``; file leaves carry their ``FileInfo``.

    Home, End, PageUp and PageDown move the cursor (Textual's ``Tree``); j and k
    move it too, as in lazygit and tig.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    @dataclass
    class FileChosen(Message):
        """Enter on a file: open it now."""

        file: FileInfo

    @dataclass
    class FileHighlighted(Message):
        """The cursor rests on a file: worth a preview, if it stays."""

        file: FileInfo

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("files", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.files: list[FileInfo] = []
        self.needle = ""
        self.collapsed: set[str] = set()
        """Folders (``notes/sub``) the user closed; every rebuild keeps them closed."""
        self._folders: dict[str, TreeNode[FileInfo | None]] = {}
        self._folder_paths: dict[NodeID, str] = {}

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._restyle())

    def _restyle(self) -> None:
        line = self.cursor_line
        self.show(self.files, self.needle)
        self.cursor_line = line

    def show(self, files: list[FileInfo], needle: str = "") -> None:
        """Rebuild from ``files``, keeping only paths containing ``needle``.

        A live reload rebuilds the tree, so it must not undo what the user did:
        the cursor stays on the file or folder it was on, and folders the user
        closed stay closed (even those a filter hid for a while).
        """
        kept = self._key(self.cursor_node)
        self._remember_collapsed()
        self.files, self.needle = files, needle
        self.clear()
        self._folders, self._folder_paths = {"": self.root}, {}
        wanted = needle.lower()
        for file in sorted(files, key=lambda f: f.path):
            if wanted and wanted not in file.path.lower():
                continue
            folder, _, name = file.path.rpartition("/")
            label = Text.assemble(name, " ", state_badge(file.state, self.app.theme_variables))
            self._folder(folder).add_leaf(label, data=file)
        self.root.expand()
        self._put_cursor_on(kept)

    def _remember_collapsed(self) -> None:
        """Read the open or closed state of the folders shown now, before they go."""
        for path, node in self._folders.items():
            if not path:
                continue
            if node.is_expanded:
                self.collapsed.discard(path)
            else:
                self.collapsed.add(path)

    def _folder(self, path: str) -> TreeNode[FileInfo | None]:
        """The node of folder ``path`` (``""`` is the root), added with its parents if new."""
        if path in self._folders:
            return self._folders[path]
        parent, _, name = path.rpartition("/")
        node = self._folder(parent).add(
            Text(name + "/", style="bold"), expand=path not in self.collapsed
        )
        self._folders[path], self._folder_paths[node.id] = node, path
        return node

    def _key(self, node: TreeNode[FileInfo | None] | None) -> str | None:
        """What a node stands for across rebuilds: a file's path, or a folder's path and "/"."""
        if node is None:
            return None
        if node.data is not None:
            return node.data.path
        folder = self._folder_paths.get(node.id)
        return None if folder is None else folder + "/"

    def _put_cursor_on(self, key: str | None) -> None:
        """Move the cursor to the line standing for ``key``, or to the top."""
        self.cursor_line = 0
        if key is None:
            return
        for line in range(self.last_line + 1):
            if self._key(self.get_node_at_line(line)) == key:
                self.cursor_line = line
                return

    @on(Tree.NodeSelected)
    def _chosen(self, event: Tree.NodeSelected[FileInfo | None]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.FileChosen(event.node.data))

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[FileInfo | None]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.FileHighlighted(event.node.data))
