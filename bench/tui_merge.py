"""Benchmark the terminal app's merge screen on a large conflict, against a real server.

Run from the repository root:

    .venv/bin/python bench/tui_merge.py [--lines 5000] [--regions 200]

Builds a markdown file of ``--lines`` lines in which both sides rewrite one line
in ``--regions`` places, makes it a conflict on a fresh ``localsync serve``,
then drives the real app headless (Textual's ``run_test``) through the real
GraphQL client and times: opening the merge screen until every region is drawn
in all three panes, one choice until the server-computed result is shown
(median of several), and saving. ``git merge-file`` on the same three texts is
the baseline. Prints one JSON object on stdout; progress goes to stderr.
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
from tui.widgets.merge_region import RegionBlock

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


async def drive(client: LocalSyncClient, conflict_id: str, choices: int) -> dict[str, float]:
    """Seconds to open, to show one choice's result (median) and to save."""
    app = LocalSyncApp(client, live=False)
    async with app.run_test(size=(160, 50)) as pilot:

        async def until(predicate: Callable[[], object], what: str, timeout: float = 300) -> None:
            deadline = time.perf_counter() + timeout
            while not predicate():
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"never happened: {what}")
                await asyncio.sleep(0.002)

        await until(lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        start = time.perf_counter()
        merge = MergeScreen(conflict_id)
        app.push_screen(merge)
        await until(lambda: merge.conflict is not None, "conflict loaded")
        regions = merge.region_count
        await until(lambda: len(merge.query(RegionBlock)) == 3 * regions, "regions drawn")
        await until(lambda: merge.result_text != "", "first result")
        opened = time.perf_counter() - start

        timings = []
        for _ in range(min(choices, regions)):  # each choice moves on to the next region
            before = merge.result_text
            start = time.perf_counter()
            await pilot.press("1")
            await until(lambda: merge.result_text != before, "choice shown")  # noqa: B023
            timings.append(time.perf_counter() - start)

        start = time.perf_counter()
        await pilot.press("L", "ctrl+s")
        await until(lambda: app.screen is not merge, "saved")
        saved = time.perf_counter() - start
    return {
        "regions": regions,
        "open_s": round(opened, 3),
        "choice_median_s": round(statistics.median(timings), 3),
        "choice_max_s": round(max(timings), 3),
        "save_s": round(saved, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--regions", type=int, default=200)
    parser.add_argument("--choices", type=int, default=15)
    args = parser.parse_args()
    base, local, raven = texts(args.lines, args.regions)
    baseline = git_merge_file_seconds(base, local, raven)
    log(f"git merge-file: {baseline * 1000:.1f} ms")
    with ServerProcess() as server, BenchApi(server) as api:
        _, conflict_id = make_conflict(api, base, local, raven)
        client = LocalSyncClient(server.url, server.token([api.workspace]), api.workspace)
        measured = asyncio.run(drive(client, conflict_id, args.choices))
    log(f"merge screen: {measured}")
    report = {
        "benchmark": "tui_merge",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "file": {"lines": args.lines, "bytes": len(local.encode())},
        "baseline_git_merge_file_s": round(baseline, 4),
        **measured,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
