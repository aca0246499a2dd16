"""Filesystem watching with watchdog, collapsed into "something changed" wake-ups.

The engine rescans with an (mtime, size) cache, so the watcher only has to say
*that* something changed (``notify``); bursts are debounced by the daemon before a rescan.
When watching is unavailable (no inotify slots, network drives) the daemon
falls back to periodic rescans.
"""

import logging
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from connector.ignore import STATE_DIR

log = logging.getLogger("connector")


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, notify: Callable[[], None]) -> None:
        self.state_prefix = str(root / STATE_DIR)
        self.notify = notify
        self.count = 0

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = event.src_path if isinstance(event.src_path, str) else event.src_path.decode()
        if path.startswith(self.state_prefix):
            return  # our own journal and temp files
        if event.event_type in ("opened", "closed_no_write"):
            return
        self.count += 1
        self.notify()


class Watcher:
    def __init__(self, root: Path, notify: Callable[[], None]) -> None:
        self.handler = _Handler(root, notify)
        self.root = root
        self.observer: Observer | None = None  # type: ignore[valid-type]

    @property
    def events_seen(self) -> int:
        return self.handler.count

    def start(self) -> bool:
        """Start watching; False means the caller must rely on periodic rescans."""
        try:
            observer = Observer()
            observer.schedule(self.handler, str(self.root), recursive=True)
            observer.start()
        except (OSError, RuntimeError) as exc:
            log.warning("watching %s is unavailable (%s); falling back to rescans", self.root, exc)
            return False
        self.observer = observer
        return True

    def stop(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=10)
            self.observer = None
