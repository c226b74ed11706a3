"""``vigil tickets import FILE --site S``: a queue-ticket system's exported log (CSV or Excel) into the database, for
ticket systems without an online connection. The same reading as the console's upload (ops_api/ticket_files.py):
the site's saved column mapping or recognised headers, each bad row named by its line, the good rows imported,
nothing written twice when a log is imported again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import ExitCode, fail, state

app = typer.Typer(help="Queue-ticket logs: import a ticket system's exported day (CSV or Excel).",
                  no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="tickets")


def _mapping(pairs: list[str] | None) -> dict[str, str] | None:
    from ops_api.ticket_files import FIELDS

    if not pairs:
        return None
    out = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field.strip() not in FIELDS or not column.strip():
            raise fail(f"--map {pair!r}: give FIELD=COLUMN, FIELD one of {', '.join(FIELDS)}", ExitCode.USAGE)
        out[field.strip()] = column.strip()
    return out


@app.command("import")
def import_log(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The log: .xlsx or UTF-8 .csv.")],
    site: Annotated[str, typer.Option("--site", help="The site's code (or id).")],
    map_: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN (repeatable): which column holds "
                                                   "ticket_number, issued_at, called_at, finished_at, date, service, "
                                                   "counter; saved for the site.")] = None,
    day: Annotated[str | None, typer.Option("--day", help="YYYY-MM-DD: the log's day when its times have none.")]
    = None,
    preview: Annotated[bool, typer.Option("--preview", help="Read and check only; write nothing.")] = False,
) -> None:
    """Import a ticket log: prints the counts, then each bad row as `line N, FIELD: why`; exit code 6 when some
    rows were bad (the good ones are imported all the same)."""
    settings = state(ctx).settings()
    from ops_api import audit
    from ops_api.accounts import cli_actor
    from ops_api.routers.ticket_imports import run_import
    from ops_api.ticket_files import TicketFileError
    from store import ticket_import
    from store.db import connect, resolve_url

    mapping = _mapping(map_)
    try:
        the_day = date.fromisoformat(day) if day else None
    except ValueError:
        raise fail(f"--day {day!r}: give YYYY-MM-DD", ExitCode.USAGE) from None
    data = file.read_bytes()
    with connect(resolve_url(settings)) as conn:
        found = ticket_import.site_for_import(conn, int(site) if site.isdigit() else site)
        if found is None:
            raise fail(f"no site {site!r}", ExitCode.NOT_FOUND)
        try:
            result = run_import(conn, found, data, file.name, mapping or ticket_import.get_mapping(conn, found["id"]),
                                the_day, preview)
        except TicketFileError as exc:
            raise fail(f"{file}: {exc}", ExitCode.INVALID_INPUT) from None
        if not preview:
            if mapping:
                ticket_import.save_mapping(conn, found["id"], mapping)
            audit.record(conn, None, "tickets.import", "site", found["id"], username=cli_actor(), after={
                "file": file.name, "bytes": len(data), "rows": result.rows, "inserted": result.inserted,
                "duplicates": result.duplicates, "errors": len(result.errors)})
    verb = "would import" if preview else "imported"
    typer.echo(f"{file.name}: {result.rows} rows, {result.tickets} tickets {verb} ({result.events} events: "
               f"{result.inserted} new, {result.duplicates} already there), {len(result.errors)} bad rows")
    for error in result.errors:
        typer.echo(f"line {error.line}, {error.field}: {error.message}", err=True)
    if result.errors:
        raise typer.Exit(ExitCode.INVALID_INPUT)
