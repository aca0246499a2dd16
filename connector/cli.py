"""``localsync sync`` and ``localsync status``: click commands attached to the ``localsync`` group.

Also runnable alone: ``python -m connector.cli sync DIR ...``.
"""

import logging
import sys
import threading
from dataclasses import replace
from pathlib import Path

import click

from connector.client import ApiError, Backoff, Client, Unreachable
from connector.daemon import Intervals, install_signal_handlers, run
from connector.engine import EXIT_SAFETY_STOP, Engine, Options, SafetyStop
from connector.journal import Journal, JournalCorrupt
from connector.state import load_state, state_dir

MODES = ("import_only", "local_to_cloud", "bidirectional")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
        force=True,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


@click.command("sync")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--server", envvar="LOCALSYNC_SERVER", help="Server URL (remembered per folder).")
@click.option("--token", envvar="LOCALSYNC_TOKEN", default="", help="JWT (or LOCALSYNC_TOKEN).")
@click.option("--workspace", envvar="LOCALSYNC_WORKSPACE", help="Workspace id (remembered).")
@click.option("--source-name", help="Source to create or attach (default: the folder's name).")
@click.option("--mode", type=click.Choice(MODES), default="bidirectional", show_default=True)
@click.option("--include", "include", multiple=True, help="Glob to sync (default **/*.md).")
@click.option("--exclude", "exclude", multiple=True, help="Glob never synced (repeatable).")
@click.option("--max-file-size", type=int, default=5 * 1024 * 1024, show_default=True)
@click.option("--allow-deletes", is_flag=True, help="Send deletes a safety stop held back.")
@click.option("--max-deletes", type=int, default=50, show_default=True)
@click.option("--max-delete-ratio", type=float, default=0.2, show_default=True)
@click.option("--retries", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--once", is_flag=True, help="One full reconcile; exit 0 only when converged.")
@click.option(
    "--poll-interval",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds between delta polls while the live event subscription is down.",
)
@click.option(
    "--rescan-interval",
    type=float,
    default=None,
    help="Seconds between full rescans [default: 300 while watching, 10 without].",
)
@click.option(
    "--no-watch",
    is_flag=True,
    help="Do not watch the folder (e.g. network drives); find changes by rescanning.",
)
@click.option("--heartbeat-interval", type=float, default=30.0, show_default=True)
@click.option("--verbose", "-v", is_flag=True)
def sync(
    directory: Path,
    server: str | None,
    token: str,
    workspace: str | None,
    source_name: str | None,
    mode: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    max_file_size: int,
    allow_deletes: bool,
    max_deletes: int,
    max_delete_ratio: float,
    retries: int,
    once: bool,
    poll_interval: float,
    rescan_interval: float | None,
    no_watch: bool,
    heartbeat_interval: float,
    verbose: bool,
) -> None:
    """Keep DIRECTORY in sync with a source on the server.

    Exit status with --once: 0 converged, 1 not converged (conflicts, rejected or
    pending items), 2 safety stop, 3 server unreachable, 4 source paused.
    """
    _setup_logging(verbose)
    opts = Options(
        root=directory,
        server=server,
        token=token,
        workspace=workspace,
        source_name=source_name,
        mode=mode,
        include=list(include) or None,
        exclude=list(exclude),
        max_bytes=max_file_size,
        allow_deletes=allow_deletes,
        max_deletes=max_deletes,
        max_delete_ratio=max_delete_ratio,
        retries=retries,
    )
    try:
        engine = Engine(opts)
    except SafetyStop as exc:
        logging.getLogger("connector").error("stopped: %s", exc)
        sys.exit(EXIT_SAFETY_STOP)
    try:
        if once:
            code = engine.once()
        else:
            wake = threading.Event()
            install_signal_handlers(engine.stop, wake)
            intervals = Intervals(poll=poll_interval, heartbeat=heartbeat_interval)
            if rescan_interval is not None:
                intervals = replace(
                    intervals, rescan=rescan_interval, rescan_unwatched=rescan_interval
                )
            code = run(engine, intervals, watch=not no_watch, wake=wake)
    finally:
        engine.close()
    sys.exit(code)


@click.command("status")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--token", envvar="LOCALSYNC_TOKEN", default="")
@click.option("--server", envvar="LOCALSYNC_SERVER")
def status(directory: Path, token: str, server: str | None) -> None:
    """Show the folder's connector and source, reachability, pending work and conflicts."""
    state = load_state(directory)
    click.echo(f"folder:      {directory.resolve()}")
    click.echo(f"connector:   {state.connector_id or '(not registered)'}")
    click.echo(f"source:      {state.source_id or '(none)'} {state.source_name or ''}".rstrip())
    click.echo(f"mode:        {state.mode or '-'}")
    journal_path = state_dir(directory) / "journal.db"
    pending, cursor = 0, 0
    if journal_path.exists():
        try:
            journal = Journal(journal_path)
            pending, cursor = journal.pending_count(), journal.cursor
            journal.close()
        except JournalCorrupt as exc:
            click.echo(f"journal:     corrupt ({exc})")
    else:
        click.echo("journal:     (none)")
    click.echo(f"pending:     {pending} operation(s)")
    click.echo(f"cursor:      {cursor}")
    url = server or state.server
    if not url or not state.workspace:
        click.echo("server:      (unknown)")
        return
    client = Client(url, token, state.workspace, Backoff(attempts=1), timeout=10)
    try:
        sources = client.sources()
        click.echo(f"server:      {url} reachable")
        found = next((s for s in sources if s["id"] == state.source_id), None)
        if found is not None:
            click.echo(f"status:      {found['status']}")
        if state.source_id:
            conflicts = client.conflicts(state.source_id)
            click.echo(f"conflicts:   {len(conflicts)} open")
            for c in conflicts:
                click.echo(f"  {c['relativePath']}  ({c['id']}, {c['reason']})")
    except Unreachable as exc:
        click.echo(f"server:      {url} unreachable ({exc})")
    except ApiError as exc:
        click.echo(f"server:      {url} answered {exc}")
    finally:
        client.close()


@click.group()
def main() -> None:
    """Folder connector commands (also attached to the ``localsync`` group)."""


main.add_command(sync)
main.add_command(status)

if __name__ == "__main__":
    main()
