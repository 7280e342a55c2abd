"""Where e-mail goes: an SMTP relay over one reused connection, or .eml files in the outbox.

Both sit behind the same small interface (open / send / close). Errors are sorted into what
is worth retrying (4xx replies, lost connections) and what is final (5xx for a recipient).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from pathlib import Path
from typing import Protocol

from campaign.channel_contract import PermanentError, TransientError, Unaddressable
from campaign.mime import envelope_address, needs_smtputf8
from campaign.outbox_files import write_whole
from campaign.settings import Settings, SmtpRelay

__all__ = [
    "FileTransport",
    "PermanentError",
    "SmtpTransport",
    "TooManyConnections",
    "TransientError",
    "Transport",
    "Unaddressable",
    "make_transport",
]


class TooManyConnections(TransientError):
    """The relay greeted a new connection with 421: it has as many of ours as it will take.

    Nothing was sent. A sending process with other connections open goes on over those for the
    rest of the chunk; with none open, the chunk waits like after any 4xx."""


class Transport(Protocol):
    def open(self) -> None: ...
    def send(self, sender: str, recipient: str, message: bytes, key: str) -> None: ...
    def close(self) -> None: ...


class FileTransport:
    """The embedded default: one .eml file per message, named by its ledger key.

    A resend overwrites the same file, so a retry never makes a second copy.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, sender: str, recipient: str, message: bytes, key: str) -> None:
        write_whole(self.directory / f"{key}.eml", message, "e-mail")

    def close(self) -> None:
        pass


class SmtpTransport:
    """One SMTP connection, reused for every message and reopened when it drops, or after
    `per_connection` messages (0: no limit) when the relay limits how many one connection carries."""

    def __init__(self, relay: SmtpRelay, timeout: float, per_connection: int = 0) -> None:
        # Parsed and percent-decoded once, in campaign.settings, where a bad URL stops start-up.
        self.tls = relay.tls
        self.starttls = relay.starttls
        self.host = relay.host
        self.port = relay.port
        self.user = relay.user
        self.password = relay.password
        self.timeout = timeout
        self.per_connection = per_connection
        self.carried = 0  # messages the relay took over the open connection
        self.conn: smtplib.SMTP | None = None

    def open(self) -> None:
        if self.conn is not None and self.per_connection and self.carried >= self.per_connection:
            self.close()
        if self.conn is not None:
            return
        self.carried = 0
        try:
            if self.tls:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    conn.starttls(context=ssl.create_default_context())
            if self.user:
                conn.login(self.user, self.password or "")
        except smtplib.SMTPConnectError as exc:
            if exc.smtp_code == 421:
                raise TooManyConnections(_reply(exc)) from None
            raise (TransientError if exc.smtp_code < 500 else PermanentError)(_reply(exc)) from None
        except smtplib.SMTPResponseException as exc:
            raise (TransientError if exc.smtp_code < 500 else PermanentError)(_reply(exc)) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self.conn = conn

    def _options(self, sender: str, recipient: str) -> list[str]:
        """SMTPUTF8 when an address needs it; Unaddressable when the relay does not offer it."""
        if not (needs_smtputf8(sender) or needs_smtputf8(recipient)):
            return []
        assert self.conn is not None
        try:
            self.conn.ehlo_or_helo_if_needed()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TransientError(f"connection lost: {exc}") from None
        if not self.conn.has_extn("smtputf8"):
            raise Unaddressable(
                "the mailbox name is not ASCII and the relay does not offer SMTPUTF8 (RFC 6531), "
                "so this message cannot be addressed"
            )
        return ["SMTPUTF8"]

    def send(self, sender: str, recipient: str, message: bytes, key: str) -> None:
        try:
            self._send(sender, recipient, message)
        except TooManyConnections:
            raise  # nothing of this message reached the relay, no address in the reply
        except (PermanentError, TransientError) as exc:
            # Relays often quote the recipient in their reply; the reply is logged and kept on
            # the ledger row, which must not hold the person's address.
            text = _without(_without(str(exc), recipient), envelope_address(recipient))
            if isinstance(exc, PermanentError):
                raise PermanentError(text, refused_recipient=exc.refused_recipient) from None
            raise TransientError(text, exc.retry_after, scope=exc.scope) from None

    def _send(self, sender: str, recipient: str, message: bytes) -> None:
        self.open()
        assert self.conn is not None
        sender, recipient = envelope_address(sender), envelope_address(recipient)
        options = self._options(sender, recipient)
        try:
            refused = self.conn.sendmail(sender, [recipient], message, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (550, b"refused"))
            text = f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            if code >= 500:
                raise PermanentError(text, refused_recipient=True) from None
            raise TransientError(text) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                # A refused sender (MAIL FROM) is ours to fix, not the recipient's bounce.
                theirs = not isinstance(exc, smtplib.SMTPSenderRefused)
                raise PermanentError(_reply(exc), refused_recipient=theirs) from None
            self._drop()
            raise TransientError(_reply(exc)) from None
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            # The relay may or may not have taken the message: resend it later with the same
            # Message-ID, so a rare duplicate is recognisable as one.
            self._drop()
            raise TransientError(f"connection lost: {exc}") from None
        except smtplib.SMTPException as exc:
            self._drop()
            raise TransientError(str(exc)) from None
        except UnicodeError:
            # smtplib could not encode a command: nothing of this message was accepted, but the
            # session may be mid-transaction, so start a fresh one for the next message.
            self._drop()
            raise Unaddressable("an address cannot be written in an SMTP command") from None
        self.carried += 1
        if refused:
            code, reply = refused.get(recipient, (550, b""))
            reason = f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            raise PermanentError(reason, refused_recipient=True)

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.conn.quit()
        self._drop()


def _without(text: str, address: str) -> str:
    """The text with every spelling of the address (any case) replaced by a neutral word."""
    return re.sub(re.escape(address), "<recipient>", text, flags=re.IGNORECASE) if address else text


def _reply(exc: smtplib.SMTPResponseException) -> str:
    message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {message}"


def make_transport(settings: Settings) -> Transport:
    if settings.smtp is not None:
        return SmtpTransport(settings.smtp, settings.smtp_timeout_seconds, settings.smtp_messages_per_connection)
    return FileTransport(settings.outbox_dir / "email")
