"""The ``tui`` click command; attach it with ``main.add_command(tui)``."""

import click

from tui.config import ConfigError, ConfigSource, TuiConfig


@click.command()
@click.option("--server", default=None, help="Server base URL [env LOCALSYNC_SERVER].")
@click.option("--token", default=None, help="JWT from `localsync token` [env LOCALSYNC_TOKEN].")
@click.option("--workspace", default=None, help="Workspace id [env LOCALSYNC_WORKSPACE].")
def tui(server: str | None, token: str | None, workspace: str | None) -> None:
    """Browse sources, files and history, and merge conflicts, in the terminal."""
    # The environment is read by ConfigSource, not by click, so the app can
    # read it (and the file) again when the user retries after fixing them.
    source = ConfigSource(server, token, workspace)
    config = _load(source)

    from tui.app import LocalSyncApp
    from tui.client import LocalSyncClient

    assert config.token is not None and config.workspace is not None
    client = LocalSyncClient(config.server, config.token, config.workspace)
    LocalSyncApp(client, config=source).run()


def _load(source: ConfigSource) -> TuiConfig:
    """The configuration, or the click error that explains what is wrong with it."""
    try:
        config = source.load()
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
            f"LOCALSYNC_WORKSPACE, or write them in {source.file}"
        )
    return config
