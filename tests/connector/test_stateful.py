"""A bounded hypothesis state machine: two connectors and the server, random steps.

Steps are edits, deletes and moves in either folder (on the same paths, so
they can clash), ticks (a ``--once`` sync of one side; each is a fresh process-like run,
so also a restart), syncs while the server is unreachable, and restarts that
lost the journal. After every step, every content either side wrote and synced
is on the server: current, in some file's history, or a side of an open
conflict. At the end, once the open conflicts are resolved, both folders agree.
One of the paths is an attachment (bytes that are not UTF-8), so the same holds
for files synced as bytes; contents are compared as bytes throughout.
"""

import hashlib
import itertools
import socket
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.connector.conftest import Syncer
from tests.factories import Api

# Text files the server accepts: NUL is refused as not text (that refusal has its
# own tests), and lone surrogates cannot be written as UTF-8 at all.
TEXT = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")

NAMES = ["a.md", "sub/b.md", "sub/deep/c.md", "é.md", "sub/pic.png"]
INCLUDE = ("--include", "**/*.md", "--include", "**/*.png")
SIDES = st.integers(0, 1)
EXIT_UNREACHABLE = 3
EXIT_SAFETY_STOP = 2
_counter = itertools.count()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: the server as seen during an outage."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return f"http://127.0.0.1:{port}"


def tree(folder: Path) -> dict[str, bytes]:
    """Every synced-looking file under ``folder`` (the state dir left out), as bytes."""
    out: dict[str, bytes] = {}
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if not rel.startswith(".localsync") and path.is_file():
            out[rel] = path.read_bytes()
    return out


def body(name: str, text: str) -> bytes:
    """What an edit writes: text, or for the attachment bytes that are not UTF-8."""
    content = text.replace("\r", "") + "\n"
    if name.endswith(".png"):
        return b"\x89PNG\r\n\x1a\n\xff" + content.encode("utf-8")
    return content.encode("utf-8")


def test_random_steps_lose_no_synced_content(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    offline = Syncer(closed_port_url(), syncer.token, syncer.workspace)

    class TwoConnectors(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            run = next(_counter)
            self.folders = [tmp_path / f"{run}-x", tmp_path / f"{run}-y"]
            for folder in self.folders:
                folder.mkdir()
            self.name = f"Notes-{run}"
            # Contents each side wrote, and those a successful sync of it saw on disk.
            self.written: list[set[bytes]] = [set(), set()]
            self.synced: list[set[bytes]] = [set(), set()]

        def sync(self, side: int, *extra: str, via: Syncer = syncer) -> int:
            folder = self.folders[side]
            return via.once(folder, "--source-name", self.name, *INCLUDE, *extra).exit_code

        def source_id(self) -> str | None:
            ids = [s["id"] for s in api.sources() if s["name"] == self.name]
            assert len(ids) <= 1, ids
            return ids[0] if ids else None

        @rule(side=SIDES, name=st.sampled_from(NAMES), text=st.text(TEXT, max_size=20))
        def edit(self, side: int, name: str, text: str) -> None:
            content = body(name, text)
            target = self.folders[side] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            self.written[side].add(content)

        @rule(side=SIDES, name=st.sampled_from(NAMES))
        def delete(self, side: int, name: str) -> None:
            (self.folders[side] / name).unlink(missing_ok=True)

        @rule(side=SIDES, old=st.sampled_from(NAMES), new=st.sampled_from(NAMES))
        def move(self, side: int, old: str, new: str) -> None:
            """A rename or move inside the folder; the scan pushes it as a move."""
            folder = self.folders[side]
            if old == new or not (folder / old).is_file() or (folder / new).exists():
                return
            (folder / new).parent.mkdir(parents=True, exist_ok=True)
            (folder / old).rename(folder / new)

        @rule(side=SIDES)
        def tick(self, side: int) -> None:
            """One ``sync --once``: a run after the last one ended, so also a restart."""
            on_disk = set(tree(self.folders[side]).values()) & self.written[side]
            code = self.sync(side)
            assert code in (0, 1, 2), code
            if code in (0, 1):
                self.synced[side] |= on_disk

        @rule(side=SIDES, lose_journal=st.booleans())
        def tick_after_trouble(self, side: int, lose_journal: bool) -> None:
            """A tick during a server outage, or after the journal was lost.

            During the outage the changes stay journaled for a later tick. A lost
            journal (disk trouble) makes the next tick start from no base.
            """
            if not lose_journal:
                code = self.sync(side, via=offline)
                # An emptied folder is a safety stop, decided before the server is asked.
                emptied = not tree(self.folders[side])
                assert code == EXIT_UNREACHABLE or (emptied and code == EXIT_SAFETY_STOP), code
                return
            for path in (self.folders[side] / ".localsync").glob("journal.db*"):
                path.unlink()
            self.tick(side)

        @invariant()
        def never_writes_outside_its_folder(self) -> None:
            assert not (tmp_path / NAMES[0]).exists() and not (tmp_path / "sub").exists()

        @invariant()
        def synced_contents_are_kept(self) -> None:
            if not (self.synced[0] or self.synced[1]):
                return
            source = self.source_id()
            assert source is not None
            kept: set[str | None] = {f["hash"] for f in api.files(source)}
            for name in NAMES:
                response = api.post(
                    "sources/history", {"sourceId": source, "relativePath": name, "limit": 500}
                )
                if response.status_code == 404:  # the path never reached the server
                    continue
                assert response.status_code == 200, response.text
                kept |= {v["hash"] for v in response.json()}
            for conflict in api.conflicts(source):
                kept |= {conflict["localHash"], conflict["remoteHash"]}
            for side in (0, 1):
                on_disk = set(tree(self.folders[side]).values())
                lost = {
                    c
                    for c in self.synced[side] - on_disk
                    if hashlib.sha256(c).hexdigest() not in kept
                }
                assert not lost, f"side {side} synced these, the server has none: {lost}"

        def teardown(self) -> None:
            # Emptying a folder is a legitimate random step; confirm it like a user would.
            for side in (0, 1, 0, 1):
                assert self.sync(side, "--allow-deletes") in (0, 1)
            source = self.source_id()
            if source is not None:
                for conflict in api.conflicts(source):
                    api.resolve(conflict["id"], "keep_local")
            codes = [self.sync(side, "--allow-deletes") for side in (0, 1, 0, 1)]
            assert codes[-2:] == [0, 0], codes
            assert tree(self.folders[0]) == tree(self.folders[1])

    run_state_machine_as_test(
        TwoConnectors,
        settings=settings(max_examples=10, stateful_step_count=25, deadline=None),
    )
