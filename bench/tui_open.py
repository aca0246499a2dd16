"""Benchmark opening a large note on the terminal app's files screen, against a real server.

Run from the repository root:

    .venv/bin/python bench/tui_open.py [--lines 5000]

Pushes a markdown note of ``--lines`` lines (sections with prose, lists, code
and tables) to a fresh ``localsync serve``, drives the real app headless
(Textual's ``run_test``) through the real GraphQL client, and times: Enter on
the note until its first screen is drawn and until all of it is rendered;
moving the cursor onto it (the preview, which waits ``PREVIEW_DELAY`` first);
switching to plain text and back; End and Home in the rendered view. It runs
the large note and one a fifth of its size (goals: first screen <= 0.5 s and
no input blocked > 100 ms at 5,000 lines, at most half of that at 1,000).

``input_blocked_max_s`` is the longest stretch the event loop could not run a
task: a 1 ms ticker measures the gaps, which is how long a key typed then
would have waited. The baseline is fetching the note through the client
alone, in the same run. With ``--markdown-widget`` the small note is also
given to Textual's ``Markdown`` widget, as the screen did before, for scale.
Prints one JSON object on stdout; progress goes to stderr.
"""

import argparse
import asyncio
import json
import os
import platform
import time
import uuid
from collections.abc import Callable

from _server import BenchApi, ServerProcess, log
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import ContentSwitcher, Markdown, TextArea

from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.screens.files import FilesScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.file_tree import FileTree
from tui.widgets.note_view import NoteView

BIG, SMALL, OTHER = "notes/big.md", "notes/a.md", "notes/c.md"


def note(lines: int) -> str:
    """About ``lines`` lines of markdown: a heading every 20 lines, prose, a list, code, a table."""
    out: list[str] = []
    section = 0
    while len(out) < lines:
        section += 1
        out += [f"## Section {section}: plans and notes", ""]
        out += [
            f"Some *text* with **bold**, `code` and a [link](https://example.org/{section}).",
            "",
        ]
        out += [f"- point {i} of section {section}, in a few words" for i in range(5)] + [""]
        out += ["```python", f"def step_{section}(x):", "    return x * 2", "```", ""]
        out += ["| a | b |", "|---|---|", f"| {section} | two |", ""]
    return "\n".join(out[:lines]) + "\n"


class LoopWatch:
    """The longest gap between wakeups of a 1 ms ticker: how long a key would have waited.

    ``longest`` is wall time, which on a shared machine includes the time the
    process waited for a CPU. ``busiest`` is the CPU time the event loop's own
    thread spent inside one gap: the work that kept a key waiting, which the
    machine's load stretches but does not cause.
    """

    def __init__(self) -> None:
        self.longest = 0.0
        self.busiest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last, last_cpu = time.perf_counter(), time.thread_time()
        while True:
            await asyncio.sleep(0.001)
            now, cpu = time.perf_counter(), time.thread_time()
            self.longest = max(self.longest, now - last - 0.001)
            self.busiest = max(self.busiest, cpu - last_cpu)
            last, last_cpu = now, cpu

    def __enter__(self) -> "LoopWatch":
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def until(predicate: Callable[[], object], what: str, timeout: float = 300) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"never happened: {what}")
        await asyncio.sleep(0.002)


def r(seconds: float) -> float:
    return round(seconds, 3)


async def drive(client: LocalSyncClient, size: tuple[int, int]) -> dict[str, float]:
    app = LocalSyncApp(client, live=False)
    async with app.run_test(size=size) as pilot:
        await until(lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        await until(lambda: sources.sources, "sources loaded")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, FilesScreen), "files screen")
        files = app.screen
        assert isinstance(files, FilesScreen)
        tree = files.query_one(FileTree)
        view = files.query_one("#rendered", NoteView)
        await until(lambda: len(files.files) == 3 and tree.has_focus, "files listed")
        # The tree reads notes/, a.md, big.md, c.md: the cursor starts on the folder.
        await pilot.press("down")
        await until(lambda: view.key == SMALL and view.complete, "a.md previewed")

        def first_screen(path: str) -> Callable[[], bool]:
            return lambda: view.key == path and len(view.lines) >= view.size.height

        def type_keys(*keys: tuple[str, str | None]) -> None:
            """As a terminal delivers them: no waiting for the app to go idle in between."""
            for key, character in keys:
                app.post_message(events.Key(key, character))

        result: dict[str, float] = {}
        with LoopWatch() as watch:
            start = time.perf_counter()
            type_keys(("down", None), ("enter", "\r"))
            await until(first_screen(BIG), "first screen of big.md")
            result["open_first_screen_s"] = r(time.perf_counter() - start)
            await until(lambda: view.key == BIG and view.complete, "big.md rendered")
            result["open_all_rendered_s"] = r(time.perf_counter() - start)
        result["open_input_blocked_max_s"] = r(watch.longest)
        result["open_loop_busy_max_s"] = r(watch.busiest)
        result["rendered_lines"] = len(view.lines)

        await pilot.press("down")  # onto c.md: a preview, after the cursor rests
        await until(lambda: view.key == OTHER and view.complete, "c.md previewed")
        with LoopWatch() as watch:
            start = time.perf_counter()
            type_keys(("up", None))
            await until(first_screen(BIG), "big.md previewed")
            result["preview_first_screen_s"] = r(time.perf_counter() - start)
            await until(lambda: view.key == BIG and view.complete, "big.md rendered again")
        result["preview_input_blocked_max_s"] = r(watch.longest)
        result["preview_loop_busy_max_s"] = r(watch.busiest)

        switcher = files.query_one("#file-view", ContentSwitcher)
        plain = files.query_one("#plain", TextArea)
        with LoopWatch() as watch:
            start = time.perf_counter()
            type_keys(("m", "m"))
            await until(lambda: switcher.current == "plain" and plain.size.height, "plain")
            result["to_plain_s"] = r(time.perf_counter() - start)
            start = time.perf_counter()
            type_keys(("m", "m"))
            await until(lambda: switcher.current == "rendered-box" and view.complete, "back")
            result["to_rendered_s"] = r(time.perf_counter() - start)
        result["switch_input_blocked_max_s"] = r(watch.longest)
        result["switch_loop_busy_max_s"] = r(watch.busiest)

        view.focus()
        await pilot.pause()
        with LoopWatch() as watch:
            start = time.perf_counter()
            type_keys(("end", None))
            await until(lambda: view.scroll_y == view.max_scroll_y > 0, "at the end")
            result["end_s"] = r(time.perf_counter() - start)
            start = time.perf_counter()
            type_keys(("home", None))
            await until(lambda: view.scroll_y == 0, "at the top")
            result["home_s"] = r(time.perf_counter() - start)
        result["scroll_input_blocked_max_s"] = r(watch.longest)
        result["scroll_loop_busy_max_s"] = r(watch.busiest)

        # The same ticker over the idle screen: how long the machine alone keeps it waiting.
        with LoopWatch() as watch:
            await asyncio.sleep(2)
        result["idle_input_blocked_max_s"] = r(watch.longest)
        result["idle_loop_busy_max_s"] = r(watch.busiest)
    return result


async def fetch_alone(client: LocalSyncClient, source_id: str) -> float:
    start = time.perf_counter()
    await client.file(source_id, BIG)
    return time.perf_counter() - start


class _MarkdownApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Markdown()


async def markdown_widget_seconds(text: str) -> float:
    """Textual's ``Markdown`` widget given the note, as the screen did before."""
    app = _MarkdownApp()
    async with app.run_test(size=(120, 40)) as pilot:
        start = time.perf_counter()
        await app.query_one(Markdown).update(text)
        await pilot.pause()
        return time.perf_counter() - start


def measure(lines: int, size: tuple[int, int], markdown_widget: bool) -> dict[str, object]:
    text = note(lines)
    with ServerProcess() as server, BenchApi(server) as api:
        source_id = api.source(api.connector()["id"])
        items = [
            {
                "op": "upsert",
                "relativePath": path,
                "content": content,
                "operationId": uuid.uuid4().hex,
            }
            for path, content in ((SMALL, "# A\n\nsmall\n"), (BIG, text), (OTHER, "# C\n"))
        ]
        api.call("sources/push-batch", {"sourceId": source_id, "items": items})
        client = LocalSyncClient(server.url, server.token([api.workspace]), api.workspace)
        fetches = [asyncio.run(fetch_alone(client, source_id)) for _ in range(3)]
        baseline = sorted(fetches)[1]
        log(f"{lines} lines: client fetch alone {baseline * 1000:.1f} ms")
        measured = asyncio.run(drive(client, size))
    log(f"{lines} lines: files screen {measured}")
    report: dict[str, object] = {
        "note": {"lines": lines, "bytes": len(text.encode())},
        "baseline_client_fetch_s": r(baseline),
        "first_screen_vs_baseline": round(measured["open_first_screen_s"] / baseline, 1),
        **measured,
    }
    if markdown_widget:
        report["textual_markdown_widget_s"] = r(asyncio.run(markdown_widget_seconds(text)))
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--markdown-widget", action="store_true")
    args = parser.parse_args()
    size = (120, 40)
    large = measure(args.lines, size, markdown_widget=False)
    small = measure(args.lines // 5, size, markdown_widget=args.markdown_widget)
    report = {
        "benchmark": "tui_open",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "terminal": {"columns": size[0], "rows": size[1]},
        "goals": {
            "large": {"open_first_screen_s": 0.5, "input_blocked_max_s": 0.1},
            "small": {"open_first_screen_s": 0.25, "input_blocked_max_s": 0.05},
        },
        "large": large,
        "small": small,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
