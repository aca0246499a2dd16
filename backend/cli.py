"""The ``localsync`` command: serve, token, export-schema (and the apps' commands, lazily)."""

import importlib
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


LAZY_COMMANDS = {
    "sync": "connector.cli:sync",
    "status": "connector.cli:status",
    "login": "connector.cli:login",
    "logout": "connector.cli:logout",
    "tui": "tui.cli:tui",
    "gc": "backend.history_cli:gc",
    "verify": "backend.history_cli:verify",
    "backup": "backend.history_cli:backup",
    "restore": "backend.history_cli:restore",
    "export-git": "backend.export_cli:export_git",
}
"""Commands of the other packages, by name: each module is imported only when its command
runs (or ``--help`` lists it), so ``localsync sync`` never loads the terminal app."""


class LazyGroup(click.Group):
    """A group whose ``LAZY_COMMANDS`` are imported on first use (click's documented way)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is not None and cmd_name not in self.commands:
            module, attr = target.split(":")
            command = getattr(importlib.import_module(module), attr)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


if __name__ == "__main__":
    sys.exit(main())
