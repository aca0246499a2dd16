"""The ``localsync`` command: serve, token, export-schema (and the apps attached later)."""

import sys

import click

from backend.settings import load_settings


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
@click.option("--log-level", default="info", show_default=True)
def serve(host: str, port: int, database_url: str | None, log_level: str) -> None:
    """Apply migrations, then serve REST, GraphQL and /healthz."""
    import uvicorn

    from backend.app import create_app
    from backend.serving import uvicorn_config

    settings = load_settings(database_url=database_url)
    app = create_app(settings)
    database = _redact(settings.resolved_database_url())
    click.echo(f"Local Sync on http://{host}:{port}  (database: {database})", err=True)
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
    from connector.cli import status, sync
    from tui.cli import tui

    main.add_command(sync)
    main.add_command(status)
    main.add_command(tui)


_attach_apps()

if __name__ == "__main__":
    sys.exit(main())
