"""Time the merge engine against git on a large markdown file.

Builds a 10,000-line markdown document, lets "local" and "remote" each rewrite
1% of its lines (different, non-neighbouring lines, so the merge is clean), and
compares our in-process diff and merge with ``git diff --no-index`` and
``git merge-file -p`` run as processes (process start included, as a user of
git would pay it). Prints one JSON object; best-of-N wall times in milliseconds.

Run: .venv/bin/python bench/merge_bench.py [--lines 10000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from backend.merge import diff_lines, hunks, merge3way

_WORDS = [
    "sync", "folder", "note", "draft", "server", "client", "merge", "conflict", "version",
    "history", "paragraph", "heading", "list", "item", "link", "image", "table", "code",
    "block", "review", "change", "keep", "shared", "page", "garden", "river", "morning",
    "evening", "market", "bread", "coffee", "letter", "window", "bridge", "lantern",
]  # fmt: skip


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 18))]
    return " ".join(words).capitalize() + "."


def _block(rng: random.Random, n: int) -> list[str]:
    """One markdown block: a heading, a paragraph, a list or a code fence."""
    kind = rng.random()
    if kind < 0.15:
        return [f"{'#' * rng.randint(1, 3)} Section {n}: {rng.choice(_WORDS).title()}", ""]
    if kind < 0.55:
        return [_sentence(rng) for _ in range(rng.randint(1, 4))] + [""]
    if kind < 0.85:
        return [f"- {_sentence(rng)}" for _ in range(rng.randint(2, 6))] + [""]
    body = [f"    {rng.choice(_WORDS)}({rng.randint(0, 99)})" for _ in range(rng.randint(2, 5))]
    return ["```python", *body, "```", ""]


def markdown(lines: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < lines:
        out.extend(_block(rng, len(out)))
    return out[:lines]


def edits(base: list[str], seed: int = 11) -> tuple[list[str], list[str]]:
    """Each side rewrites 1% of the lines; the two sets never touch each other."""
    rng = random.Random(seed)
    count = len(base) // 100
    slots = rng.sample(range(0, len(base), 3), 2 * count)
    local, remote = list(base), list(base)
    for i in slots[:count]:
        local[i] = f"{base[i]} (local edit {i})"
    for i in slots[count:]:
        remote[i] = f"{base[i]} (remote edit {i})"
    return local, remote


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time; the collector is paused while timing, as ``timeit`` does."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    base_lines = markdown(args.lines)
    local_lines, remote_lines = edits(base_lines)
    base, local, remote = (
        "".join(f"{x}\n" for x in t) for t in (base_lines, local_lines, remote_lines)
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: Path(tmp, f"{name}.md") for name in ("base", "local", "remote")}
        for name, text in (("base", base), ("local", local), ("remote", remote)):
            paths[name].write_text(text, newline="")
        git_diff = [
            "git",
            "diff",
            "--no-index",
            "--no-color",
            str(paths["base"]),
            str(paths["local"]),
        ]
        git_merge = [
            "git",
            "merge-file",
            "-p",
            str(paths["local"]),
            str(paths["base"]),
            str(paths["remote"]),
        ]

        def run(cmd: list[str]) -> None:
            subprocess.run(cmd, capture_output=True, check=False)

        merged = merge3way(base, local, remote)
        git_out = subprocess.run(git_merge, capture_output=True, check=False).stdout.decode()
        assert merged.clean and merged.text == git_out, "benchmark inputs must merge like git"

        diff_ms = best_ms(lambda: hunks(base, local), args.repeat)
        diff_lines_ms = best_ms(lambda: diff_lines(base, local), args.repeat)
        merge_ms = best_ms(lambda: merge3way(base, local, remote), args.repeat)
        git_diff_ms = best_ms(lambda: run(git_diff), args.repeat)
        git_merge_ms = best_ms(lambda: run(git_merge), args.repeat)

    report = {
        "lines": args.lines,
        "diff_ms": round(diff_ms, 2),
        "diff_lines_ms": round(diff_lines_ms, 2),
        "git_diff_ms": round(git_diff_ms, 2),
        "diff_ratio": round(diff_ms / git_diff_ms, 2),
        "merge_ms": round(merge_ms, 2),
        "git_merge_ms": round(git_merge_ms, 2),
        "merge_ratio": round(merge_ms / git_merge_ms, 2),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
