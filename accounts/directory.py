"""The team's accounts: add, find, give roles, list. One address, one account, whatever the spelling."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.models import EMAIL_MAX, INTERFACE_LANGUAGES, PERSON, SERVICE, Account, AccountRole
from accounts.roles import Actor, Role
from campaign.errors import WavecastError
from campaign.phrase import Phrase

SERVICE_DOMAIN = "service.invalid"  # a service account's "address": RFC 2606 says it reaches no one


def account_email(raw: str) -> str:
    """Stripped and lower-cased: ` Ann@Example.org ` and `ann@example.org` are one account."""
    email = raw.strip().lower()
    local, at, domain = email.partition("@")
    if not (at and local and "." in domain) or len(email) > EMAIL_MAX or any(c.isspace() for c in email):
        raise WavecastError(f"{raw.strip()!r} is not an e-mail address")
    return email


def service_email(name: str) -> str:
    name = name.strip().lower()
    if not name or not name.replace("-", "").isalnum():
        raise WavecastError(f"a service account's name is letters, digits and '-', not {name!r}")
    return f"{name}@{SERVICE_DOMAIN}"


def find(session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == account_email(email)))


def get(session: Session, email: str) -> Account:
    account = find(session, email)
    if account is None:
        raise WavecastError(f"there is no account {account_email(email)}; `wavecast accounts list` shows them")
    return account


def roles_of(session: Session, account_id: int) -> frozenset[Role]:
    rows = session.scalars(select(AccountRole.role).where(AccountRole.account_id == account_id))
    return frozenset(Role(r) for r in rows)


def actor(session: Session, account: Account) -> Actor:
    return Actor(account.id, account.email, roles_of(session, account.id), account.kind == SERVICE, account.language)


AUTO_LANGUAGE = "auto"  # no choice of the account's own: the browser's languages decide


def interface_language(code: str) -> str | None:
    """One of INTERFACE_LANGUAGES from what a person typed (` NL ` is nl), None for "auto";
    an error naming the choices otherwise."""
    language = code.strip().lower()
    if language == AUTO_LANGUAGE:
        return None
    if language not in INTERFACE_LANGUAGES:
        choices = ", ".join((*INTERFACE_LANGUAGES, AUTO_LANGUAGE))
        raise WavecastError(
            Phrase(
                "%(code)s is not a language of the web app; choose one of %(choices)s",
                code=repr(code.strip()),
                choices=choices,
            )
        )
    return language


def set_language(session: Session, by: Actor, email: str, code: str) -> Account:
    """Sets the account's interface language, checked, and writes it to the audit log."""
    account = get(session, email)
    before, account.language = account.language, interface_language(code)
    audit.record(
        session,
        by,
        "accounts.language",
        "account",
        account.email,
        before={"language": before},
        after={"language": account.language},
    )
    return account


def add(session: Session, email: str, roles: list[Role], *, service: bool = False) -> Account:
    """A new account with these roles; an address already taken is an error (roles change with `set_roles`)."""
    address = service_email(email) if service else account_email(email)
    if find(session, address) is not None:
        raise WavecastError(f"{address} already has an account; change its roles with `wavecast accounts roles`")
    account = Account(email=address, kind=SERVICE if service else PERSON)
    session.add(account)
    session.flush()
    set_roles(session, account, roles)
    return account


def set_roles(session: Session, account: Account, roles: list[Role]) -> None:
    session.execute(delete(AccountRole).where(AccountRole.account_id == account.id))
    session.add_all(AccountRole(account_id=account.id, role=str(r)) for r in dict.fromkeys(roles))
    session.flush()


def admin_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AccountRole).where(AccountRole.role == Role.ADMIN)) or 0


@dataclass(frozen=True)
class Listed:
    email: str
    kind: str
    roles: tuple[str, ...]
    password: bool
    totp: bool
    oidc: bool
    disabled: bool


def listing(session: Session) -> list[Listed]:
    accounts = session.scalars(select(Account).order_by(Account.email)).all()
    return [
        Listed(
            a.email,
            a.kind,
            tuple(sorted(roles_of(session, a.id))),
            a.password_hash is not None,
            a.totp_secret is not None,
            a.oidc_subject is not None,
            a.disabled_at is not None,
        )
        for a in accounts
    ]
