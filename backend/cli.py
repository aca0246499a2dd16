"""The ``localsync`` command: serve, token, export-schema (and the apps attached later)."""

import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from backend.settings import Settings


def load_settings(**overrides: Any) -> "Settings":
    """The server's settings, imported on first use so that `localsync --help` and the
    connector's commands never load pydantic-settings or any server module."""
    from backend.settings import load_settings as load

    return load(**overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="localsync")
def main() -> None:
    """Local Sync: keep folders of markdown in sync with a shared workspace."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir)."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Server processes on this port, PostgreSQL only (default: LOCALSYNC_WORKERS, 1).",
)
@click.option("--log-level", default="info", show_default=True)
def serve(
    host: str, port: int, database_url: str | None, workers: int | None, log_level: str
) -> None:
    """Apply migrations, then serve REST, GraphQL, /healthz and /metrics."""
    import uvicorn

    from backend.serving import WorkersNeedPostgres, serve_workers, uvicorn_config

    settings = load_settings(database_url=database_url, workers=workers)
    url = settings.resolved_database_url()
    if settings.workers > 1 and not url.startswith("postgresql"):
        raise WorkersNeedPostgres
    processes = f", {settings.workers} workers" if settings.workers > 1 else ""
    click.echo(
        f"Local Sync on http://{host}:{port}  (database: {_redact(url)}{processes})", err=True
    )
    if settings.workers > 1:
        serve_workers(settings, host, port, log_level)
        return
    from backend.app import create_app

    app = create_app(settings)
    uvicorn.Server(uvicorn_config(app, settings, host, port, log_level)).run()


@main.command()
@click.option(
    "--workspace",
    "workspaces",
    multiple=True,
    required=True,
    help="Workspace the token grants; repeat for several.",
)
@click.option("--user", default="localsync", show_default=True, help="Subject of the token.")
@click.option(
    "--ttl",
    type=click.IntRange(min=1),
    default=None,
    help="Lifetime in seconds (default: LOCALSYNC_TOKEN_TTL_SECONDS, 30 days).",
)
def token(workspaces: tuple[str, ...], user: str, ttl: int | None) -> None:
    """Print a signed JWT that `serve` accepts."""
    from backend.auth import mint_token

    click.echo(mint_token(load_settings(), list(workspaces), user=user, ttl_seconds=ttl))


@main.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL); `make schema` writes it to schema.graphql."""
    from backend.graphql.schema import build_schema

    click.echo(build_schema(load_settings()).as_str())


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _attach_apps() -> None:
    """The connector and terminal app live in their own packages; ``localsync`` fronts them."""
    from backend.export_cli import export_git
    from connector.cli import login, logout, status, sync
    from tui.cli import tui

    main.add_command(sync)
    main.add_command(status)
    main.add_command(login)
    main.add_command(logout)
    main.add_command(tui)
    from backend.history_cli import COMMANDS as HISTORY_COMMANDS

    for command in HISTORY_COMMANDS:
        main.add_command(command)
    main.add_command(export_git)


_attach_apps()

if __name__ == "__main__":
    sys.exit(main())
