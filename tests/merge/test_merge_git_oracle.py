"""Differential tests against git itself (``git merge-file`` and ``git diff``).

Cases are made from a markdown document shipped in ``data/`` by random line
edits with a seeded RNG, so every run checks the same few hundred merges. The
engine ports git's xdiff, so we expect and assert full agreement: the same
clean/conflict verdict, the same merged text, and the same bytes including
conflict markers. There is no known category where we are clean and git is not.
"""

import random
import subprocess
import tempfile
from pathlib import Path

from backend.merge import merge3way, unified_diff

DOC = (Path(__file__).parent / "data" / "field_notes.md").read_text()
DOC_LINES = DOC.splitlines()
CASES = 300
_MERGE_FILE = ["git", "merge-file", "-p", "--diff3", "-L", "local", "-L", "base", "-L", "raven"]
_GIT_DIFF = ["git", "diff", "--no-index", "--no-indent-heuristic", "--no-color", "-U3", "--text"]

_NEW_LINES = [
    "",
    "---",
    "```",
    "- [ ] Check the netting for holes.",
    "- [ ] Sow a second row of carrots.",
    "Bring string for the bean poles.",
    "## Notes from the last visit",
    "The slugs found the lettuce again.",
    "| 5 | 15 | new bed by the shed |",
]


def _changed(rng: random.Random, line: str) -> str:
    choices = [
        line + " (updated)",
        line.replace("the ", "a ", 1),
        line.upper(),
        rng.choice(_NEW_LINES),
        line.replace("[ ]", "[x]"),
    ]
    return rng.choice(choices)


def _edit(rng: random.Random, lines: list[str], edits: int) -> list[str]:
    out = list(lines)
    for _ in range(edits):
        op = rng.random()
        at = rng.randrange(len(out) + 1)
        if op < 0.3 or not out:
            out[at:at] = rng.sample(_NEW_LINES, rng.randint(1, 2))
        elif op < 0.55:
            del out[at : at + rng.randint(1, 3)]
        else:
            at = min(at, len(out) - 1)
            out[at] = _changed(rng, out[at])
    return out


def _join(rng: random.Random, lines: list[str], eol: str) -> str:
    text = "".join(line + eol for line in lines)
    if text and rng.random() < 0.1:
        text = text[: -len(eol)]
    return text


def make_case(seed: int) -> tuple[str, str, str]:
    """A window of the document, and a local and a remote edit of it."""
    rng = random.Random(seed)
    start = rng.randrange(len(DOC_LINES))
    base = DOC_LINES[start : start + rng.randint(0, 60)]
    local = _edit(rng, base, rng.randint(0, 5))
    shape = rng.random()
    if shape < 0.1:
        remote = list(base)
    elif shape < 0.2:
        remote = list(local)
    elif shape < 0.35:
        # Share some of local's edits, then add more: identical changes on both sides.
        remote = _edit(rng, local, rng.randint(1, 2))
    else:
        remote = _edit(rng, base, rng.randint(0, 5))
    eol = "\r\n" if rng.random() < 0.15 else "\n"
    return _join(rng, base, eol), _join(rng, local, eol), _join(rng, remote, eol)


def _git_merge(tmp: Path, base: str, local: str, remote: str) -> tuple[bool, str]:
    for name, text in (("base", base), ("local", local), ("remote", remote)):
        (tmp / name).write_bytes(text.encode())
    run = subprocess.run(
        [*_MERGE_FILE, str(tmp / "local"), str(tmp / "base"), str(tmp / "remote")],
        capture_output=True,
        check=False,
    )
    assert run.returncode >= 0, run.stderr
    return run.returncode == 0, run.stdout.decode()


def test_merge_agrees_with_git_merge_file() -> None:
    verdicts = same_bytes = both_clean = 0
    clean_only_here: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(CASES):
            base, local, remote = make_case(seed)
            git_clean, git_out = _git_merge(Path(tmp), base, local, remote)
            ours = merge3way(base, local, remote)
            if ours.clean and not git_clean:
                clean_only_here.append(seed)
            if ours.clean == git_clean:
                verdicts += 1
            if ours.clean and git_clean:
                both_clean += 1
                assert ours.text == git_out, f"seed {seed}: clean merges differ"
            if ours.merged_with_markers == git_out:
                same_bytes += 1
    print(
        f"\ngit merge-file oracle: {CASES} cases, {both_clean} clean in both; "
        f"verdict agreement {verdicts / CASES:.1%}, byte-identical output {same_bytes / CASES:.1%}"
    )
    assert clean_only_here == [], f"clean here but conflicting in git: seeds {clean_only_here}"
    assert CASES // 4 < both_clean < CASES - CASES // 4, "generator should mix clean and conflicts"
    assert verdicts == CASES
    assert same_bytes / CASES >= 0.99


def test_diff_agrees_with_git_diff() -> None:
    """Our hunks equal git's with the indent heuristic (a display nicety) turned off."""
    same = 0
    cases = 100
    with tempfile.TemporaryDirectory() as tmp:
        old_path, new_path = Path(tmp, "old"), Path(tmp, "new")
        for seed in range(cases):
            old, new, _ = make_case(1000 + seed)
            old_path.write_bytes(old.encode())
            new_path.write_bytes(new.encode())
            run = subprocess.run(
                [*_GIT_DIFF, str(old_path), str(new_path)],
                capture_output=True,
                check=False,
            )
            git_text = run.stdout.decode()
            git_hunks = git_text[git_text.find("\n@@") + 1 :] if "\n@@" in git_text else ""
            git_hunks = "\n".join(
                line.rsplit(" @@", 1)[0] + " @@" if line.startswith("@@ ") else line
                for line in git_hunks.split("\n")
            )
            ours = unified_diff(old, new)
            ours_hunks = ours[ours.find("@@") :] if ours else ""
            same += ours_hunks == git_hunks
    print(f"\ngit diff oracle: {cases} cases, identical hunks {same / cases:.0%}")
    assert same == cases
