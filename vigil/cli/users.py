"""``vigil users``: add, list, change passwords, create the first admin, issue API tokens."""

from __future__ import annotations

import sys

import typer

from vigil.cli.common import ExitCode, fail, state

users_app = typer.Typer(help="Console and API users: add, list, passwd, first-admin, token.", no_args_is_help=True)
ROLES = ("operator", "manager", "engineer", "admin")


def _conn(ctx: typer.Context):
    import psycopg

    from store.db import connect, resolve_url
    from store.embedded import EmbeddedPostgresError

    settings = state(ctx).settings()
    try:
        return connect(resolve_url(settings), timeout_s=settings.database.connect_timeout_s)
    except (EmbeddedPostgresError, psycopg.OperationalError) as exc:
        raise fail(f"database: {exc}".strip(), ExitCode.DATABASE) from None


def _password(stdin: bool, generate: bool) -> tuple[str, bool]:
    """(password, generated): from stdin, a fresh one-time password, or typed twice at a prompt."""
    from ops_api.security import one_time_password

    if stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if generate:
        return one_time_password(), True
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False


@users_app.command("add")
def add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Sign-in name (letters, digits, . _ @ -)."),
    role: str = typer.Option(..., "--role", "-r", help="operator, manager, engineer or admin."),
    sites: str = typer.Option(None, help="Comma-separated site ids the user is limited to (default: all)."),
    provinces: str = typer.Option(None, help="Comma-separated province ids: every center of each, new ones "
                                             "included (with --sites: those sites too)."),
    name: str = typer.Option(None, "--name", help="Display name."),
    language: str = typer.Option("vi", help="vi or en."),
    password_stdin: bool = typer.Option(False, help="Read the password from the first line of stdin."),
    generate: bool = typer.Option(False, help="Generate a one-time password (printed; changed at first sign-in)."),
    supervisor: bool = typer.Option(False, help="A supervisor (operators and admins): told when an alarm of its "
                                                "sites is escalated."),
) -> None:
    """Create a user; without --password-stdin or --generate the password is asked for twice."""
    from ops_api.accounts import AccountError, cli_actor, create_user

    if role not in ROLES:
        raise fail(f"--role must be one of: {', '.join(ROLES)}", ExitCode.USAGE)
    try:
        site_ids = [int(s) for s in sites.split(",") if s.strip()] if sites else None
        province_ids = [int(s) for s in provinces.split(",") if s.strip()] if provinces else None
    except ValueError:
        raise fail("--sites and --provinces must be comma-separated numbers, e.g. 1,4", ExitCode.USAGE) from None
    password, generated = _password(password_stdin, generate)
    with _conn(ctx) as conn:
        try:
            row = create_user(conn, username, password, role, site_ids=site_ids, province_ids=province_ids,
                              display_name=name, language=language, must_change_password=generated,
                              actor_name=cli_actor(), supervisor=supervisor)
        except AccountError as exc:
            raise fail(str(exc), ExitCode.INVALID_INPUT) from None
    typer.echo(f"created {row['username']} ({row['role']}, id {row['id']})")
    if generated:
        typer.echo(f"one-time password: {password}  (to be changed at the first sign-in)")


@users_app.command("passwd")
def passwd(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, help="Read the new password from the first line of stdin."),
    generate: bool = typer.Option(False, help="Generate a one-time password (printed; changed at next sign-in)."),
) -> None:
    """Set a user's password (also lifts a lock-out, ends the user's sessions and revokes its API tokens)."""
    from ops_api.accounts import AccountError, cli_actor, get_user, set_password

    with _conn(ctx) as conn:
        user = get_user(conn, username=username)
        if user is None:
            raise fail(f"no user {username!r}", ExitCode.NOT_FOUND)
        password, generated = _password(password_stdin, generate)
        try:
            set_password(conn, user["id"], password, must_change=generated, actor_name=cli_actor())
        except AccountError as exc:
            raise fail(str(exc), ExitCode.INVALID_INPUT) from None
    typer.echo(f"password changed for {username}")
    if generated:
        typer.echo(f"one-time password: {password}  (to be changed at the next sign-in)")


@users_app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every user with role, sites and state."""
    from bench.report import format_table
    from ops_api.accounts import list_users

    with _conn(ctx) as conn:
        rows = list_users(conn)
    typer.echo(format_table([{
        "id": r["id"], "username": r["username"], "role": r["role"],
        "sites": "all" if r["site_ids"] is None else ",".join(map(str, r["site_ids"])),
        "state": "active" if r["active"] else "disabled",
        "note": "must change password" if r["must_change_password"] else "",
    } for r in rows], ["id", "username", "role", "sites", "state", "note"]))


@users_app.command("first-admin")
def first_admin(ctx: typer.Context, username: str = typer.Option("admin", help="Name of the first admin.")) -> None:
    """Create the first administrator with a one-time password, printed once (nothing when one exists)."""
    from ops_api.accounts import ensure_first_admin

    with _conn(ctx) as conn:
        if ensure_first_admin(conn, username).password is None:
            typer.echo("an administrator already exists; nothing to do")


@users_app.command("token")
def token(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    name: str = typer.Option("cli", help="What the token is for."),
    days: int = typer.Option(None, min=1, max=3650, help="Expire after this many days (default: never)."),
) -> None:
    """Issue an API token for scripts (printed once; send it as 'Authorization: Bearer <token>')."""
    from datetime import UTC, datetime, timedelta

    from ops_api import audit
    from ops_api.accounts import cli_actor, get_user
    from ops_api.security import TOKEN_PREFIX, new_token, token_hash
    from store.accounts import add_token

    with _conn(ctx) as conn:
        user = get_user(conn, username=username)
        if user is None or not user["active"]:
            raise fail(f"no active user {username!r}", ExitCode.NOT_FOUND)
        secret = new_token(TOKEN_PREFIX)
        expires = datetime.now(UTC) + timedelta(days=days) if days else None
        with conn.transaction():
            row = add_token(conn, user["id"], name, token_hash(secret), secret[:10], expires)
            audit.record(conn, None, "token.create", "api_token", row["id"], after={"user": username, "name": name},
                         username=cli_actor())
    typer.echo(secret)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
