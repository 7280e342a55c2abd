"""`wavecast accounts ...`, `wavecast tokens ...`, `wavecast login`, `wavecast logout`: the team's accounts.

The first admin comes from `accounts create-admin`, which works only while there is none; after
that every change here needs the admin role, and each one is an audit entry."""

from __future__ import annotations

import socket
import sys

import typer
from rich.table import Table

from accounts import audit, directory, sessions, signin, tokens, totp
from accounts.directory import AUTO_LANGUAGE
from accounts.models import INTERFACE_LANGUAGES
from accounts.passwords import hash_password
from accounts.roles import ROLES, Actor, Role, parse_role
from campaign.db import session_scope, utcnow
from campaign.errors import WavecastError
from campaign.settings import get_settings
from frontends.cli.app import app, err, out
from frontends.cli.identity import acting, signed_in, store_token, stored_token

accounts_app = typer.Typer(help="The team's accounts and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal API tokens: for the command line and scripts.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(tokens_app, name="tokens")

RoleOpt = typer.Option(
    [], "--role", "-r", help=f"A role ({', '.join(ROLES)}); give --role again for more.", show_default=False
)
LOGIN_DAYS = 30


def _roles(given: list[str]) -> list[Role]:
    return [parse_role(r) for r in given]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@accounts_app.command("create-admin")
def create_admin(
    email: str = typer.Argument(..., help="The first admin's e-mail address.", show_default=False),
    role: list[str] = RoleOpt,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    tokens_only: bool = typer.Option(False, "--tokens-only", help="No password now; set one later."),
) -> None:
    """First run: the first admin account (with any extra --role), signed in on this computer.

    Works only while no account holds the admin role."""
    with session_scope() as session:
        if directory.admin_count(session):
            raise WavecastError("an admin exists already: ask them to `wavecast accounts add` you")
        account = directory.add(session, email, [Role.ADMIN, *_roles(role)])
        if not tokens_only:
            account.password_hash = hash_password(_password(password_stdin))
        admin = directory.actor(session, account)
        audit.record(session, admin, "accounts.add", "account", account.email, after={"roles": sorted(admin.roles)})
        token = tokens.create(session, account, f"login {socket.gethostname()}"[:100], LOGIN_DAYS)
    path = get_settings().token_file
    store_token(path, token)
    out.print(f"admin account {admin.email} created ({', '.join(sorted(admin.roles))}); signed in here ({path})")
    out.print("next: `wavecast accounts add EMAIL --role ROLE` for each person of the team")


@accounts_app.command("add")
def add(
    email: str = typer.Argument(
        ..., help="The person's e-mail address (or a name, with --service).", show_default=False
    ),
    role: list[str] = RoleOpt,
    service: bool = typer.Option(False, "--service", help="An unattended service (the scheduler): tokens only."),
) -> None:
    """Add an account with its roles (admin only)."""
    admin = acting("accounts.add")
    roles = _roles(role)
    if not roles:
        raise WavecastError(f"give at least one --role ({', '.join(ROLES)})")
    with session_scope() as session:
        account = directory.add(session, email, roles, service=service)
        audit.record(session, admin, "accounts.add", "account", account.email, after={"roles": sorted(roles)})
    out.print(f"{account.email}: {', '.join(sorted(roles))}")
    if not service:
        out.print(f"they sign in with `wavecast accounts password` after `wavecast tokens create {account.email}`")


@accounts_app.command("roles")
def roles(
    email: str = typer.Argument(..., help="The account's address.", show_default=False),
    role: list[str] = RoleOpt,
) -> None:
    """Replace an account's roles (admin only). No --role leaves it a viewer."""
    admin = acting("accounts.roles")
    with session_scope() as session:
        account = directory.get(session, email)
        before = sorted(directory.roles_of(session, account.id))
        new = _roles(role)
        if account.id == admin.id and Role.ADMIN not in new:
            raise WavecastError("you cannot take the admin role from yourself; another admin can")
        directory.set_roles(session, account, new)
        audit.record(
            session,
            admin,
            "accounts.roles",
            "account",
            account.email,
            before={"roles": before},
            after={"roles": sorted(new)},
        )
    out.print(f"{account.email}: {', '.join(sorted(new)) or 'viewer only'}")


@accounts_app.command("disable")
def disable(email: str = typer.Argument(..., help="The account's address.", show_default=False)) -> None:
    """Disable an account: its tokens and sessions stop working (admin only)."""
    admin = acting("accounts.disable")
    with session_scope() as session:
        account = directory.get(session, email)
        if account.id == admin.id:
            raise WavecastError("you cannot disable your own account")
        account.disabled_at = utcnow()
        sessions.end_everywhere(session, account.id)
        audit.record(session, admin, "accounts.disable", "account", account.email)
    out.print(f"{account.email} is disabled")


@accounts_app.command("unlock")
def unlock(email: str = typer.Argument(..., help="The account's address.", show_default=False)) -> None:
    """Lift the lock that wrong passwords put on an account (admin only)."""
    admin = acting("accounts.roles")
    with session_scope() as session:
        account = directory.get(session, email)
        account.failed_signins, account.locked_until = 0, None
        audit.record(session, admin, "accounts.unlock", "account", account.email)
    out.print(f"{account.email} is unlocked")


@accounts_app.command("list")
def list_() -> None:
    """Every account, its roles and how it signs in."""
    signed_in()
    table = Table("Account", "Kind", "Roles", "Signs in with")
    with session_scope() as session:
        for a in directory.listing(session):
            ways = [w for w, on in (("password", a.password), ("code", a.totp), ("single sign-on", a.oidc)) if on]
            kind = a.kind + (" (disabled)" if a.disabled else "")
            table.add_row(a.email, kind, ", ".join(a.roles) or "viewer", " + ".join(ways) or "tokens only")
    out.print(table)


@accounts_app.command("password")
def password(
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set your own password (for the web app and `wavecast login`)."""
    me = signed_in()
    hashed = hash_password(_password(password_stdin))
    with session_scope() as session:
        account = directory.get(session, me.email)
        account.password_hash = hashed
        audit.record(session, me, "accounts.password", "account", me.email)
    out.print(f"the password of {me.email} is set")


@accounts_app.command("language")
def language(
    code: str = typer.Argument(
        ..., help=f"{', '.join(INTERFACE_LANGUAGES)}, or {AUTO_LANGUAGE} for the browser's choice.", show_default=False
    ),
    email: str | None = typer.Option(
        None, "--account", help="Another account's address (admin only); yours by default.", show_default=False
    ),
) -> None:
    """The language the web app speaks to you (or, as admin, to another account)."""
    me = signed_in()
    if email is not None and directory.account_email(email) != me.email:
        me.require("accounts.roles")
    with session_scope() as session:
        account = directory.set_language(session, me, email or me.email, code)
        after = account.language
    out.print(f"{account.email}: the web app speaks {after or 'as the browser asks'}")


@accounts_app.command("totp")
def totp_command() -> None:
    """Turn on one-time codes for your account; prints the address for the authenticator app."""
    me = signed_in()
    secret = totp.new_secret()
    with session_scope() as session:
        directory.get(session, me.email).totp_secret = secret
        audit.record(session, me, "accounts.totp", "account", me.email)
    out.print("add this to your authenticator app (shown once):", markup=False)
    out.print(totp.provisioning_uri(secret, me.email), markup=False, soft_wrap=True)


@accounts_app.command("sign-out-everywhere")
def sign_out_everywhere() -> None:
    """End every web session of your account."""
    me = signed_in()
    with session_scope() as session:
        ended = sessions.end_everywhere(session, me.id)
        audit.record(session, me, "accounts.signout", "account", me.email, after={"sessions": ended})
    out.print(f"{ended} web session(s) ended")


# ---------------------------------------------------------------------------- tokens


def _self_or_admin(email: str, action: str) -> tuple[Actor, str]:
    """You manage your own tokens; someone else's (a service account's) takes the admin role."""
    me = signed_in()
    target = directory.account_email(email) if "@" in email else directory.service_email(email)
    if target != me.email:
        me.require(action)
    return me, target


@tokens_app.command("create")
def create_token(
    email: str = typer.Argument(
        ..., help="Whose token: your address, or (admin) another account's.", show_default=False
    ),
    name: str = typer.Option("cli", "--name", help="What the token is for, to tell it apart."),
    expires: int | None = typer.Option(None, "--expires", help="Days until it stops working.", show_default=False),
) -> None:
    """Make a personal API token; it is printed once and stored only as a digest."""
    me, target = _self_or_admin(email, "tokens.create")
    with session_scope() as session:
        account = directory.get(session, target)
        token = tokens.create(session, account, name, expires)
        audit.record(session, me, "tokens.create", "account", account.email, after={"name": name, "days": expires})
    sys.stdout.write(token + "\n")  # alone on standard output, for a script to take
    err.print(f"the token {name!r} of {account.email}, shown this once: keep it in WAVECAST_TOKEN or a secret store")


@tokens_app.command("revoke")
def revoke_token(
    email: str = typer.Argument(..., help="Whose token.", show_default=False),
    name: str = typer.Option(..., "--name", help="The token's name.", show_default=False),
) -> None:
    """Revoke a token by name: it stops working at once."""
    me, target = _self_or_admin(email, "tokens.revoke")
    with session_scope() as session:
        account = directory.get(session, target)
        count = tokens.revoke(session, account, name)
        if not count:
            raise WavecastError(f"{account.email} has no live token named {name!r}")
        audit.record(session, me, "tokens.revoke", "account", account.email, after={"name": name})
    out.print(f"revoked {count} token(s) {name!r} of {account.email}")


@tokens_app.command("list")
def list_tokens(email: str | None = typer.Argument(None, help="Whose tokens (default: yours).")) -> None:
    """Your tokens (or, as admin, another account's): names and dates, never the tokens."""
    _me, target = _self_or_admin(email or signed_in().email, "tokens.create")
    table = Table("Name", "Created", "Expires", "Last used", "State")
    with session_scope() as session:
        for t in tokens.listing(session, directory.get(session, target)):
            state = "revoked" if t.revoked_at else "live"
            table.add_row(
                t.name,
                f"{t.created_at:%Y-%m-%d}",
                f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "-",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-",
                state,
            )
    out.print(table)


# ---------------------------------------------------------------------------- login


@app.command()
def login(
    email: str = typer.Argument(..., help="Your account's address.", show_default=False),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    code: str = typer.Option("", "--code", help="The one-time code, if your account uses them.", show_default=False),
) -> None:
    """Sign in on this computer: stores a personal token (30 days) readable by you only."""
    given = sys.stdin.readline().rstrip("\r\n") if password_stdin else str(typer.prompt("Password", hide_input=True))
    me = signin.with_password(session_scope, email, given, code)
    with session_scope() as session:
        token = tokens.create(
            session, directory.get(session, me.email), f"login {socket.gethostname()}"[:100], LOGIN_DAYS
        )
    path = get_settings().token_file
    store_token(path, token)
    out.print(f"signed in as {me.email} ({', '.join(sorted(me.roles)) or 'viewer'}) for {LOGIN_DAYS} days ({path})")


@app.command()
def logout() -> None:
    """Revoke the token `wavecast login` stored, and delete it."""
    path = get_settings().token_file
    token = stored_token(path)
    if token is None:
        out.print("not signed in on this computer")
        return
    with session_scope() as session:
        tokens.revoke_value(session, token)
    path.unlink(missing_ok=True)
    out.print("signed out on this computer")
