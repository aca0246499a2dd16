"""``localsync gc``, ``verify``, ``backup`` and ``restore``: keeping history over time.

Each command works on the configured database (``LOCALSYNC_*`` or
``--database-url``), alongside running servers: gc in short transactions,
verify in one read-only snapshot, backup through SQLite's backup API. Only
restore needs the servers stopped, and checks that they are.
"""

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from backend.retention.verify import VerifyReport

_DATABASE = click.option(
    "--database-url", default=None, help="SQLAlchemy URL (default: LOCALSYNC_DATABASE_URL)."
)


def _settings(database_url: str | None):  # type: ignore[no-untyped-def]
    from backend.settings import load_settings

    return load_settings(database_url=database_url)


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would be pruned; change nothing.")
@click.option("--source", "source_id", default=None, help="Only this source (id).")
@click.option("--quiet", is_flag=True, help="Print the totals only, not each version.")
@_DATABASE
def gc(dry_run: bool, source_id: str | None, quiet: bool, database_url: str | None) -> None:
    """Apply retention policies: prune old versions and delete blobs nothing uses."""
    from backend.db import make_engine, run_migrations
    from backend.retention.gc import Pruned, collect

    settings = _settings(database_url)
    engine = make_engine(settings)
    run_migrations(engine)
    verb = "would prune" if dry_run else "pruned"

    def show(item: Pruned) -> None:
        click.echo(f"{verb} {item.source_id} {item.path} v{item.seq} {item.hash}")

    reports = collect(
        engine,
        tombstone_max_age=timedelta(days=settings.tombstone_max_age_days),
        source_id=source_id,
        dry_run=dry_run,
        on_pruned=None if quiet else show,
    )
    engine.dispose()
    for r in reports:
        blobs = "would free" if dry_run else "freed"
        click.echo(
            f"source {r.source_id} ({r.policy.kind}): {r.files} files, {verb} "
            f"{r.versions_pruned} versions, {blobs} {r.blobs_deleted} blobs "
            f"({r.bytes_freed} bytes), {r.blobs_left} left for the next run; "
            f"longest lock {r.longest_lock_seconds * 1000:.1f} ms"
        )
    if not reports:
        click.echo("no source has a retention policy other than keeping everything")


@click.command()
@_DATABASE
def verify(database_url: str | None) -> None:
    """Audit the database: every kept version readable, current hashes, conflicts, cursors.

    Exits 1 on any breach. Safe on a live server's database (read-only snapshot).
    """
    from backend.db import make_engine
    from backend.retention.verify import verify as audit

    engine = make_engine(_settings(database_url))
    report = audit(engine)
    engine.dispose()
    _print_report(report)
    sys.exit(0 if report.ok else 1)


def _print_report(report: "VerifyReport") -> None:
    checked = ", ".join(f"{name} {count}" for name, count in sorted(report.counts.items()))
    click.echo(f"checked: {checked or 'an empty database'} in {report.seconds:.2f} s")
    for breach in report.breaches:
        click.echo(f"BREACH {breach.kind}: {breach.detail}", err=True)
    click.echo("ok: nothing is missing" if report.ok else f"{len(report.breaches)} breaches")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_DATABASE
def backup(file: Path, database_url: str | None) -> None:
    """Write a consistent snapshot of the SQLite database to FILE, while servers run."""
    from backend.retention.backup import BackupError
    from backend.retention.backup import backup as take

    try:
        size = take(_settings(database_url), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up to {file} ({size} bytes)")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_DATABASE
def restore(file: Path, database_url: str | None) -> None:
    """Replace the SQLite database with the backup FILE (servers must be stopped).

    The backup is audited first and refused if anything in it is missing; the
    replaced database is kept beside it; the result is audited again.
    """
    from backend.db import make_engine
    from backend.retention.backup import (
        BackupError,
        check_integrity,
        read_only_engine,
        require_sqlite,
    )
    from backend.retention.backup import restore as put_back
    from backend.retention.verify import verify as audit

    settings = _settings(database_url)
    try:
        require_sqlite(settings)
        check_integrity(file)
        engine = read_only_engine(file)
        report = audit(engine)
        engine.dispose()
        if not report.ok:
            _print_report(report)
            raise click.ClickException(f"{file} fails the audit; nothing was restored")
        saved = put_back(settings, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    if saved is not None:
        click.echo(f"the replaced database was kept at {saved}")
    engine = make_engine(settings)
    report = audit(engine)
    engine.dispose()
    _print_report(report)
    click.echo(f"restored from {file}")
    sys.exit(0 if report.ok else 1)


COMMANDS = (gc, verify, backup, restore)
