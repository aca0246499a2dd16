"""A no-op rerun does not ask the server for open conflicts; a changed source does.

The open-conflicts answer is kept in the journal with the cursor it was taken
at: conflicts open and close only with events, so while the pull finds none and
nothing is pushed the answer holds. Requests are counted by the server's own
``/metrics``, not by a stand-in client.
"""

from pathlib import Path

from connector.engine import EXIT_NOT_CONVERGED, EXIT_OK
from tests.conftest import LiveServer
from tests.connector.conftest import Syncer, source_id, write
from tests.factories import Api
from tests.rest.test_metrics import scrape, value

ROUTES = "/api/local-sync/sources/"


def _requests(server: LiveServer, route: str) -> float:
    return value(
        scrape(server),
        "localsync_request_duration_seconds_count",
        method="POST",
        route=ROUTES + route,
        status="200",
    )


def test_a_noop_rerun_skips_the_conflict_list_but_still_pulls(
    syncer: Syncer, live_server: LiveServer, tmp_path: Path
) -> None:
    write(tmp_path, "a.md", "a\n")
    for _ in range(2):
        assert syncer.once(tmp_path).exit_code == EXIT_OK
    asked, pulled = _requests(live_server, "conflicts"), _requests(live_server, "deltas")
    assert syncer.once(tmp_path).exit_code == EXIT_OK
    assert _requests(live_server, "conflicts") == asked
    assert _requests(live_server, "deltas") == pulled + 1
    write(tmp_path, "a.md", "a, edited\n")  # a push: the list is asked for again
    assert syncer.once(tmp_path).exit_code == EXIT_OK
    assert _requests(live_server, "conflicts") == asked + 1


def test_a_conflict_opened_or_resolved_elsewhere_is_still_reported(
    syncer: Syncer, api: Api, live_server: LiveServer, tmp_path: Path
) -> None:
    write(tmp_path, "a.md", "a\n")
    for _ in range(2):
        assert syncer.once(tmp_path).exit_code == EXIT_OK
    sid = source_id(tmp_path)
    conflict = api.open_conflict(sid, "notes/clash.md")  # a path this folder never had
    for _ in range(2):
        result = syncer.once(tmp_path)
        assert result.exit_code == EXIT_NOT_CONVERGED, result.output
        assert "open conflict on notes/clash.md" in result.output
    api.resolve(conflict["id"], "keep_raven")
    assert syncer.once(tmp_path).exit_code == EXIT_OK
    asked = _requests(live_server, "conflicts")
    assert syncer.once(tmp_path).exit_code == EXIT_OK
    assert _requests(live_server, "conflicts") == asked
