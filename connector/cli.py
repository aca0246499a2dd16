"""``localsync sync`` and ``localsync status``: click commands attached to the ``localsync`` group.

Also runnable alone: ``python -m connector.cli sync DIR ...``.
"""

import logging
import sys
from pathlib import Path

import click

MODES = ("import_only", "local_to_cloud", "bidirectional")
DEFAULT_SERVER = "http://127.0.0.1:8000"
QUIET_LOGGERS = ("httpx", "httpcore", "websockets", "watchdog", "asyncio", "urllib3")
"""Libraries whose debug output drowns the connector's own: shown from ``-vv`` on."""
SECRET_LOGGERS = ("gql",)
"""Libraries that log whole messages, credentials included: warnings only, always."""

# Every import beyond click happens inside the commands: `localsync --help` and
# the commands of other packages attached to the same group stay quick.


def _setup_logging(verbose: int) -> None:
    """Default INFO; ``-v`` the connector's DEBUG lines; ``-vv`` every library's too."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    for name in SECRET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _login_hint(server: str, workspace: str | None) -> str:
    return f"localsync login --server {server} --workspace {workspace or 'WORKSPACE'}"


def _resolve(directory: Path, server: str | None, workspace: str | None) -> tuple[str, str | None]:
    """Server and workspace: the option, else the folder's memory, else the last login.

    The stored login is looked at only when the first two leave a gap, so a run given
    both (or a folder that remembers them) never loads the credentials' libraries.
    """
    from connector.state import load_state

    state = load_state(directory)
    server, workspace = server or state.server, workspace or state.workspace
    if server and workspace:
        return server, workspace
    from connector.credentials import last_login

    last_server, last_workspace = last_login()
    return server or last_server or DEFAULT_SERVER, workspace or last_workspace


def _token(token: str, server: str, workspace: str | None) -> str:
    """The given token, else the stored one; a clear usage error (exit 2) when neither."""
    if token:
        return token
    if workspace:
        from connector.credentials import load_token

        stored = load_token(server, workspace)
        if stored:
            return stored
    raise click.UsageError(
        f"no token given and none stored for {server} (workspace {workspace or 'unknown'}). "
        f"Log in once with `{_login_hint(server, workspace)}`, "
        "or pass --token / set LOCALSYNC_TOKEN."
    )


@click.command("sync")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--server", envvar="LOCALSYNC_SERVER", help="Server URL (remembered per folder).")
@click.option("--token", envvar="LOCALSYNC_TOKEN", default="", help="JWT (or LOCALSYNC_TOKEN).")
@click.option("--workspace", envvar="LOCALSYNC_WORKSPACE", help="Workspace id (remembered).")
@click.option("--source-name", help="Source to create or attach (default: the folder's name).")
@click.option("--mode", type=click.Choice(MODES), default="bidirectional", show_default=True)
@click.option(
    "--include",
    "include",
    multiple=True,
    help="Glob to sync (default: markdown, images and PDFs).",
)
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
@click.option(
    "--verbose", "-v", count=True, help="-v: the connector's debug lines; -vv: libraries' too."
)
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
    verbose: int,
) -> None:
    """Keep DIRECTORY in sync with a source on the server.

    Exit status with --once: 0 converged, 1 not converged (conflicts, rejected or
    pending items), 2 safety stop, 3 server unreachable, 4 source paused.
    Without --token, the token stored by `localsync login` is used.
    """
    _setup_logging(verbose)
    server, workspace = _resolve(directory, server, workspace)
    token = _token(token, server, workspace)
    if not workspace:
        raise click.UsageError(
            "no workspace: pass --workspace (remembered per folder) or log in once with "
            f"`{_login_hint(server, None)}`"
        )

    from dataclasses import replace

    from connector.engine import EXIT_SAFETY_STOP, Engine, Options, SafetyStop

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
            import threading

            from connector.daemon import Intervals, install_signal_handlers, run

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
    """Show the folder's connector and source, reachability, pending work and conflicts.

    Without --token, the token stored by `localsync login` is used.
    """
    from connector.client import ApiError, Backoff, Client, Unreachable
    from connector.journal import Journal, JournalCorrupt
    from connector.state import load_state, state_dir

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
    token = _token(token, url, state.workspace)
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


@click.command("login")
@click.option("--server", envvar="LOCALSYNC_SERVER", default=DEFAULT_SERVER, show_default=True)
@click.option("--workspace", envvar="LOCALSYNC_WORKSPACE", required=True, help="Workspace id.")
@click.option(
    "--token",
    envvar="LOCALSYNC_TOKEN",
    prompt="Token",
    hide_input=True,
    help="JWT from `localsync token` (asked for when not given).",
)
def login(server: str, workspace: str, token: str) -> None:
    """Check a token against the server, then store it for sync, status and tui."""
    from connector.credentials import normalise_server, save_token

    server = normalise_server(server)
    token = token.strip()
    if not token:
        raise click.UsageError("the token is empty")
    _check_login(server, workspace, token)
    stored = save_token(server, workspace, token)
    if stored.warning:
        click.echo(f"warning: {stored.warning}", err=True)
    click.echo(f"logged in to {server} (workspace {workspace}); token kept in {stored.where}")


def _check_login(server: str, workspace: str, token: str) -> None:
    """One cheap authenticated call; refusals and outages become clear errors (exit 1)."""
    from connector.client import ApiError, Backoff, Client, Unreachable

    try:
        client = Client(server, token, workspace, Backoff(attempts=1), timeout=15)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        client.sources()
    except Unreachable as exc:
        raise click.ClickException(f"cannot reach {server}: {exc}; nothing stored") from exc
    except ApiError as exc:
        what = {401: "refused the token", 403: "does not grant this workspace to the token"}
        reason = what.get(exc.status, "refused the login")
        raise click.ClickException(
            f"{server} {reason} ({exc.status} {exc.code}: {exc.message}); nothing stored"
        ) from exc
    finally:
        client.close()


@click.command("logout")
@click.option("--server", envvar="LOCALSYNC_SERVER", default=None, help="Default: last login.")
@click.option("--workspace", envvar="LOCALSYNC_WORKSPACE", default=None, help="Default: last.")
def logout(server: str | None, workspace: str | None) -> None:
    """Forget the token stored by `localsync login`."""
    from connector.credentials import delete_token, last_login

    last_server, last_workspace = last_login()
    server = server or last_server or DEFAULT_SERVER
    workspace = workspace or last_workspace
    if not workspace:
        raise click.UsageError("which workspace? pass --workspace")
    if delete_token(server, workspace):
        click.echo(f"logged out of {server} (workspace {workspace})")
    else:
        click.echo(f"no stored token for {server} (workspace {workspace})")


@click.group()
def main() -> None:
    """Folder connector commands (also attached to the ``localsync`` group)."""


for _command in (sync, status, login, logout):
    main.add_command(_command)

if __name__ == "__main__":
    main()
