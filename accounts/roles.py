"""The five roles, what each one allows, and the person acting (`Actor`).

Every account may read (plan, preview, status, report): that is the viewer's role, and the
other roles add to it. A person may hold several roles; none implies another, so an admin who
also approves holds `admin` and `approver`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from campaign.errors import WavecastError
from campaign.phrase import Phrase


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    APPROVER = "approver"
    OPERATOR = "operator"
    ADMIN = "admin"


ROLES: tuple[Role, ...] = tuple(Role)

# What each state change needs. Reading needs an account, any role.
ACTIONS: dict[str, Role] = {
    "wave.proof": Role.EDITOR,
    "wave.edit": Role.EDITOR,  # a message or the wave's day changed in the web app
    "initiative.submit": Role.EDITOR,
    "wave.approve": Role.APPROVER,
    "initiative.review": Role.APPROVER,
    "wave.schedule": Role.OPERATOR,
    "wave.launch": Role.OPERATOR,
    "wave.pause": Role.OPERATOR,
    "wave.resume": Role.OPERATOR,
    "wave.cancel": Role.OPERATOR,
    "contacts.import": Role.OPERATOR,
    "contacts.export": Role.OPERATOR,
    "contacts.erase": Role.OPERATOR,
    "contacts.unsubscribe": Role.OPERATOR,
    "accounts.add": Role.ADMIN,
    "accounts.roles": Role.ADMIN,
    "accounts.disable": Role.ADMIN,
    "tokens.create": Role.ADMIN,
    "tokens.revoke": Role.ADMIN,
}


class NotSignedIn(WavecastError):
    """No account: the request or command named nobody, or a token that is not valid."""

    exit_code = 4
    http_status = 401
    title = Phrase("Sign-in needed")


class NotAllowed(WavecastError):
    """The account lacks the role the action needs, or the rules forbid this person."""

    exit_code = 4
    http_status = 403
    title = Phrase("Not allowed")


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise WavecastError(f"unknown role {text!r}; the roles are: {', '.join(ROLES)}") from None


@dataclass(frozen=True)
class Actor:
    """The account doing something, as the audit log records it."""

    id: int
    email: str
    roles: frozenset[Role]
    service: bool = False
    language: str | None = None  # the web app's interface language the account chose

    def may(self, action: str) -> bool:
        return ACTIONS[action] in self.roles

    def require(self, action: str) -> None:
        """NotAllowed naming the role the action needs, unless the account holds it."""
        needed = ACTIONS[action]
        if needed not in self.roles:
            held = ", ".join(sorted(self.roles)) or "no role"
            raise NotAllowed(
                Phrase(
                    "%(email)s may not %(action)s: it needs the %(role)s role (%(held)s)",
                    email=self.email,
                    action=action.replace(".", " "),
                    role=str(needed),
                    held=held,
                )
            )
