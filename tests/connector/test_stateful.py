"""A bounded hypothesis state machine: random local edits in two folders always converge."""

import itertools
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.connector.conftest import Syncer, tree, write
from tests.factories import Api

# Text files the server accepts: NUL is refused as not text (that refusal has its
# own tests), and lone surrogates cannot be written as UTF-8 at all.
TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")

NAMES = ["a.md", "sub/b.md", "sub/deep/c.md", "é.md"]
_counter = itertools.count()


def test_random_edits_converge(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    class TwoFolders(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            run = next(_counter)
            self.folders = [tmp_path / f"{run}-x", tmp_path / f"{run}-y"]
            for folder in self.folders:
                folder.mkdir()
            self.name = f"Notes-{run}"

        def sync(self, folder: Path, *extra: str) -> int:
            return syncer.once(folder, "--source-name", self.name, *extra).exit_code

        @rule(side=st.integers(0, 1), name=st.sampled_from(NAMES), text=st.text(TEXT, max_size=20))
        def edit(self, side: int, name: str, text: str) -> None:
            # Each folder edits only its own half of the names: no overlapping edits.
            write(self.folders[side], f"{side}/{name}", text.replace("\r", "") + "\n")

        @rule(side=st.integers(0, 1), name=st.sampled_from(NAMES))
        def delete(self, side: int, name: str) -> None:
            (self.folders[side] / f"{side}/{name}").unlink(missing_ok=True)

        @rule(side=st.integers(0, 1))
        def sync_one(self, side: int) -> None:
            assert self.sync(self.folders[side]) in (0, 2)

        @invariant()
        def never_writes_outside_its_folder(self) -> None:
            assert not (tmp_path / "0").exists() and not (tmp_path / "1").exists()

        def teardown(self) -> None:
            # Emptying a folder is a legitimate random step; confirm it like a user would.
            codes = [self.sync(f, "--allow-deletes") for f in (*self.folders, *self.folders)]
            assert codes[-2:] == [0, 0]
            assert tree(self.folders[0]) == tree(self.folders[1])

    run_state_machine_as_test(
        TwoFolders,
        settings=settings(max_examples=5, stateful_step_count=8, deadline=None, derandomize=True),
    )
