"""``localsync export-git``: a source's history as a git repository (an admin command)."""

from pathlib import Path

import click


@click.command("export-git")
@click.argument("source_id")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--incremental", is_flag=True, help="Add only what is new since the last export into DIR."
)
@click.option(
    "--database-url", default=None, help="SQLAlchemy URL (default: LOCALSYNC_DATABASE_URL)."
)
def export_git(
    source_id: str, directory: Path, incremental: bool, database_url: str | None
) -> None:
    """Write SOURCE_ID's history into DIRECTORY as git commits, one per version.

    Reads the database directly in one read-only snapshot; the server may keep
    running. DIRECTORY must be empty, missing, or an earlier export of the same
    source (with --incremental).
    """
    from backend.db import make_engine
    from backend.export_git import ExportRefused
    from backend.export_git import export_git as run_export
    from backend.settings import load_settings

    settings = load_settings(database_url=database_url)
    _require_database(settings.resolved_database_url())
    engine = make_engine(settings)
    try:
        report = run_export(engine, source_id, directory, incremental=incremental)
    except ExportRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if report.commits == 0:
        click.echo("nothing new to export", err=True)
    else:
        click.echo(f"exported {report.commits} versions to {directory}", err=True)


def _require_database(url: str) -> None:
    """A SQLite path that does not exist is a typo: say so rather than create an empty file."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return
    if not Path(path).is_file():
        raise click.ClickException(f"no database at {path}")
