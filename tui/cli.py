"""The ``tui`` click command; attach it with ``main.add_command(tui)``."""

import click

from tui.config import ConfigError, config_path, load_config


@click.command()
@click.option("--server", envvar="LOCALSYNC_SERVER", default=None, help="Server base URL.")
@click.option("--token", envvar="LOCALSYNC_TOKEN", default=None, help="JWT from `localsync token`.")
@click.option("--workspace", envvar="LOCALSYNC_WORKSPACE", default=None, help="Workspace id.")
def tui(server: str | None, token: str | None, workspace: str | None) -> None:
    """Browse sources, files and history, and merge conflicts, in the terminal."""
    try:
        config = load_config(server, token, workspace)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    missing = [
        name
        for name, value in (("--token", config.token), ("--workspace", config.workspace))
        if not value
    ]
    if missing:
        raise click.UsageError(
            f"missing {' and '.join(missing)}: pass them, set LOCALSYNC_TOKEN / "
            f"LOCALSYNC_WORKSPACE, or write them in {config_path()}"
        )
    assert config.token is not None and config.workspace is not None

    from tui.app import LocalSyncApp
    from tui.client import LocalSyncClient

    LocalSyncApp(LocalSyncClient(config.server, config.token, config.workspace)).run()
