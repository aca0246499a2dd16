"""Benchmark the terminal app's merge screen on a large conflict, against a real server.

Run from the repository root:

    .venv/bin/python bench/tui_merge.py [--lines 5000] [--regions 200]

Builds a markdown file of ``--lines`` lines in which both sides rewrite one line
in ``--regions`` places, makes it a conflict on a fresh ``localsync serve``,
then drives the real app headless (Textual's ``run_test``) through the real
GraphQL client and times: opening the merge screen until the aligned panes are
laid out and the server's first result is shown, one choice from the key until
the new result is on screen (median and max of several; the screen draws it at
once and the server's answer confirms it about ``CONFIRM_DELAY`` later, also
reported), and saving. It
runs the large file and one a fifth of its size (goals: open <= 1 s and a
choice <= 100 ms at 5,000 lines, at most half of that at 1,000).

``input_blocked_max_s`` is the longest stretch the event loop could not run a
task while the screen opened and while choices were made: a 1 ms ticker
measures the gaps, which is how long a key typed then would have waited.
``git merge-file`` on the same three texts is the baseline. Prints one JSON
object on stdout; progress goes to stderr.
"""

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from _server import BenchApi, ServerProcess, log

from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.merge_view import MergeView
from tui.widgets.result_view import ResultView

PATH = "notes/big.md"


def texts(lines: int, regions: int) -> tuple[str, str, str]:
    """Base, local and raven: each side rewrites the same ``regions`` lines differently."""
    step = max(lines // regions, 4)
    changed = set(range(step // 2, lines, step)[:regions])
    base = [f"Line {i}: the quick brown fox jumps over the lazy dog.\n" for i in range(lines)]
    local = [f"Line {i}: the quick LOCAL fox.\n" if i in changed else b for i, b in enumerate(base)]
    raven = [f"Line {i}: the slow RAVEN dog.\n" if i in changed else b for i, b in enumerate(base)]
    return "".join(base), "".join(local), "".join(raven)


def git_merge_file_seconds(base: str, local: str, raven: str) -> float:
    with tempfile.TemporaryDirectory(prefix="tui-bench-") as tmp:
        paths = []
        for name, text in (("local", local), ("base", base), ("raven", raven)):
            path = Path(tmp) / name
            path.write_text(text)
            paths.append(str(path))
        start = time.perf_counter()
        subprocess.run(["git", "merge-file", "-p", *paths], capture_output=True, check=False)
        return time.perf_counter() - start


def make_conflict(api: BenchApi, base: str, local: str, raven: str) -> tuple[str, str]:
    """A source holding ``PATH`` in conflict; returns the source and conflict ids."""
    source_id = api.source(api.connector()["id"])
    api.call("sources/push-batch", {"sourceId": source_id, "items": [_upsert(base, None)]})
    api.call("sources/push-batch", {"sourceId": source_id, "items": [_upsert(local, sha(base))]})
    body = {"sourceId": source_id, "relativePath": PATH, "content": raven, "baseHash": sha(base)}
    edit = api.call("sources/file/update", body)
    if edit["status"] != "conflict":
        raise RuntimeError(f"expected a conflict, got {edit}")
    return source_id, str(edit["conflictId"])


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _upsert(content: str, base: str | None) -> dict[str, object]:
    item: dict[str, object] = {
        "op": "upsert",
        "relativePath": PATH,
        "content": content,
        "operationId": uuid.uuid4().hex,
    }
    if base is not None:
        item["baseHash"] = base
    return item


class LoopWatch:
    """The longest gap between wakeups of a 1 ms ticker: how long a key would have waited."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.001)
            last = now

    def __enter__(self) -> "LoopWatch":
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def drive(client: LocalSyncClient, conflict_id: str, choices: int) -> dict[str, float]:
    """Seconds to open, to show one choice's result (median, max) and to save."""
    app = LocalSyncApp(client, live=False)
    async with app.run_test(size=(160, 50)) as pilot:

        async def until(predicate: Callable[[], object], what: str, timeout: float = 300) -> None:
            deadline = time.perf_counter() + timeout
            while not predicate():
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"never happened: {what}")
                await asyncio.sleep(0.002)

        await until(lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        with LoopWatch() as opening:
            start = time.perf_counter()
            merge = MergeScreen(conflict_id)
            app.push_screen(merge)
            await until(lambda: merge.doc is not None, "conflict loaded")
            view, result = merge.query_one(MergeView), merge.query_one(ResultView)
            await until(lambda: view.wrapped is not None, "panes laid out")
            await until(lambda: result.stretches, "first result")
            opened = time.perf_counter() - start
        regions = merge.region_count

        timings, confirmed = [], []
        await until(lambda: merge.confirmed, "first result confirmed")
        with LoopWatch() as choosing:
            for _ in range(min(choices, regions)):  # each choice moves on to the next region
                before = merge.result_text
                start = time.perf_counter()
                # Timed from the key to the new result on screen, not to the end of
                # Pilot's press (which also waits for the app to go idle).
                press = asyncio.ensure_future(pilot.press("1"))
                await until(lambda: merge.result_text != before, "choice shown")  # noqa: B023
                timings.append(time.perf_counter() - start)
                await until(lambda: merge.confirmed, "server's result")
                confirmed.append(time.perf_counter() - start)
                await press

        start = time.perf_counter()
        await pilot.press("L", "ctrl+s")
        await until(lambda: app.screen is not merge, "saved")
        saved = time.perf_counter() - start
    return {
        "regions": regions,
        "open_s": round(opened, 3),
        "choice_median_s": round(statistics.median(timings), 3),
        "choice_max_s": round(max(timings), 3),
        "choice_confirmed_by_server_median_s": round(statistics.median(confirmed), 3),
        "save_s": round(saved, 3),
        "input_blocked_max_open_s": round(opening.longest, 3),
        "input_blocked_max_choices_s": round(choosing.longest, 3),
    }


def measure(lines: int, regions: int, choices: int) -> dict[str, object]:
    base, local, raven = texts(lines, regions)
    baseline = git_merge_file_seconds(base, local, raven)
    log(f"{lines} lines: git merge-file {baseline * 1000:.1f} ms")
    with ServerProcess() as server, BenchApi(server) as api:
        _, conflict_id = make_conflict(api, base, local, raven)
        client = LocalSyncClient(server.url, server.token([api.workspace]), api.workspace)
        measured = asyncio.run(drive(client, conflict_id, choices))
    log(f"{lines} lines: merge screen {measured}")
    return {
        "file": {"lines": lines, "bytes": len(local.encode())},
        "baseline_git_merge_file_s": round(baseline, 4),
        "open_vs_baseline": round(float(measured["open_s"]) / baseline, 1),
        **measured,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--regions", type=int, default=200)
    parser.add_argument("--choices", type=int, default=15)
    args = parser.parse_args()
    large = measure(args.lines, args.regions, args.choices)
    small = measure(args.lines // 5, max(args.regions // 5, 1), args.choices)
    report = {
        "benchmark": "tui_merge",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "goals": {
            "large": {"open_s": 1.0, "choice_s": 0.1},
            "small": {"open_s": 0.5, "choice_s": 0.05},
        },
        "large": large,
        "small": small,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
