"""Online backup while pushes run, restore refused while a server is live, verify after."""

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from backend.settings import Settings
from tests.conftest import LiveServer
from tests.factories import Api, upsert


class Pusher:
    """Pushes new files until stopped, counting what the server accepted."""

    def __init__(self, api: Api, source_id: str) -> None:
        self.api, self.source_id = api, source_id
        self.done = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.api.push(self.source_id, upsert(f"live/{self.done}.md", f"# {self.done}\n"))
                self.done += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def until(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while self.done < count and self.error is None:
            assert time.monotonic() < deadline, "pushes stalled"
            time.sleep(0.01)
        assert self.error is None, self.error


@pytest.fixture
def pusher(own_api: Api) -> Iterator[Pusher]:
    source = own_api.source()["id"]
    running = Pusher(own_api, source)
    running.thread.start()
    yield running
    running.stopping.set()
    running.thread.join(timeout=60)


def test_backup_under_load_then_restore_once_the_server_stops(
    own_server: LiveServer,
    own_settings: Settings,
    own_database: str,
    pusher: Pusher,
    tmp_path: Path,
    localsync: Callable[..., Result],
) -> None:
    if not own_database.startswith("sqlite"):
        pytest.skip("PostgreSQL backups are pg_dump's job; see the next test")
    target = tmp_path / "snapshot.db"
    pusher.until(5)
    before = pusher.done
    taken = localsync("backup", str(target), database_url=own_database)
    assert taken.exit_code == 0, taken.output
    at_backup = pusher.done
    pusher.until(at_backup + 5)  # the server kept accepting pushes throughout

    audited = localsync("verify", database_url=f"sqlite:///{target}")
    assert audited.exit_code == 0, audited.output
    live = localsync("verify", database_url=own_database)  # the live one, pushes going on
    assert live.exit_code == 0, live.output
    pusher.until(pusher.done + 5)

    refused = localsync("restore", str(target), database_url=own_database)
    assert refused.exit_code != 0
    assert "stop it before restoring" in refused.output

    pusher.stopping.set()
    pusher.thread.join(timeout=60)
    own_server.stop()
    restored = localsync("restore", str(target), database_url=own_database)
    assert restored.exit_code == 0, restored.output
    assert "ok: nothing is missing" in restored.output
    assert "the replaced database was kept at" in restored.output

    again = LiveServer(own_settings).start()
    try:
        with Api(again.url, own_settings, pusher.api.workspace) as api:
            files = api.files(pusher.source_id, limit=5000)
    finally:
        again.stop()
    # The snapshot holds every push answered before the backup began, and nothing torn
    # (verify above: cursors gapless, every version's content there).
    assert before <= len(files) <= at_backup
    assert all(f["relativePath"].startswith("live/") for f in files)


def test_a_corrupt_backup_is_refused(
    own_database: str, tmp_path: Path, localsync: Callable[..., Result]
) -> None:
    if not own_database.startswith("sqlite"):
        pytest.skip("SQLite only")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = localsync("restore", str(junk), database_url=own_database)
    assert result.exit_code != 0
    assert "not a SQLite database" in result.output


def test_postgres_points_to_pg_dump(
    own_database: str, tmp_path: Path, localsync: Callable[..., Result]
) -> None:
    if own_database.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    for command in ("backup", "restore"):
        result = localsync(command, str(tmp_path / "x.dump"), database_url=own_database)
        assert result.exit_code != 0
        assert "pg_dump" in result.output and "pg_restore" in result.output
