"""Where the DNS checks read TXT records: a file of pasted records, or DNS itself.

The file (``wavecast doctor --records FILE``) is for a machine that cannot reach the internet's
DNS, or for records not published yet. One record a line, zone-file style::

    ; comments start with a semicolon
    example.org.                     TXT "v=spf1 include:_spf.relay.example -all"
    _dmarc.example.org 3600 IN       TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org"
    wave._domainkey.example.org      TXT ( "v=DKIM1; k=rsa; "
                                           "p=MIIBIjANBgkqh..." )

Several quoted strings are one value, joined without spaces (as DNS joins them); parentheses
let one record span lines. dnspython's tokenizer reads the quoting, escapes and comments.
Records of other types are skipped; an unquoted value is refused, since "v=spf1 -all" without
quotes would be two strings and join to "v=spf1-all".

DNS is asked with a short timeout, after one probe of the root zone: a resolver that does not
know the root (a sandbox's, or none at all) cannot say anything about a domain, so its "no
such name" must not read as "no record".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

import dns.exception
import dns.resolver
import dns.tokenizer

from campaign.errors import WavecastError
from campaign.phrase import Phrase

TIMEOUT_SECONDS = 2.0
_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))+$")
_CLASSES = {"IN"}


class RecordsError(WavecastError):
    """The records file cannot be read; the message names the file and line."""


class Unreachable(Exception):
    """DNS cannot be asked from here; the message says why."""


class TxtSource(Protocol):
    """TXT records by name: the values (each record's strings joined), [] when there are none."""

    where: str

    def txt(self, name: str) -> list[str]: ...


def _key(name: str) -> str:
    return name.rstrip(".").lower()


class RecordsFile:
    """The records of a pasted file; a name the file lacks has no records."""

    def __init__(self, path: Path, records: dict[str, list[str]]) -> None:
        self.where: str = Phrase("records file %(path)s", path=str(path))
        self.records = records

    def txt(self, name: str) -> list[str]:
        return list(self.records.get(_key(name), []))


def read_records(path: Path) -> RecordsFile:
    """Parse a records file; RecordsError ``FILE:LINE: what`` on the first malformed record."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise RecordsError(f"{path}: cannot read the records file: {reason}") from None
    lines = text.splitlines()
    records: dict[str, list[str]] = {}
    first = 0
    while first < len(lines):
        last, tokens = _logical_line(path, lines, first)
        try:
            found = _record(tokens)
        except ValueError as exc:
            raise RecordsError(f"{path}:{first + 1}: {exc}") from None
        if found is not None and found[1] is not None:
            records.setdefault(_key(found[0]), []).append(found[1])
        first = last
    return RecordsFile(path, records)


def _logical_line(path: Path, lines: list[str], first: int) -> tuple[int, list[dns.tokenizer.Token]]:
    """The tokens of the record starting on line `first` (0-based) and the index after its last
    line: a record with an open parenthesis takes the following lines until it closes."""
    last = first + 1
    while True:
        tok = dns.tokenizer.Tokenizer("\n".join(lines[first:last]), filename=str(path))
        try:
            tokens = [tok.get(want_leading=True)]
            while not tokens[-1].is_eof():
                tokens.append(tok.get())
            return last, tokens[:-1]
        except dns.exception.SyntaxError as exc:
            message = re.sub(r"^.*?:\d+: ", "", str(exc)) or "not a record"
            if isinstance(exc, dns.exception.UnexpectedEnd):
                message = 'the line ends inside a quoted value (a closing " is missing)'
            if message == "unbalanced parentheses" and last < len(lines):
                last += 1
                continue
            raise RecordsError(f"{path}:{first + 1}: {message}") from None


def _record(tokens: list[dns.tokenizer.Token]) -> tuple[str, str | None] | None:
    """(name, TXT value) of one record, (name, None) for a record of another type, None for a
    blank or comment line; ValueError saying what is wrong."""
    tokens = [t for t in tokens if not t.is_eol()]
    if tokens and tokens[0].is_whitespace():
        if len(tokens) == 1:
            return None
        raise ValueError("a record starts with its name, at the start of the line")
    if not tokens:
        return None
    name = tokens[0].value
    if name.startswith("$"):
        raise ValueError(f"{name} is not read here: write each record with its full name")
    if tokens[0].is_quoted_string() or name == "@" or not _NAME.match(name.rstrip(".")):
        raise ValueError(f'{name!r} is not a full domain name (write each record as: name TXT "value")')
    rest = tokens[1:]
    while rest and rest[0].is_identifier() and (rest[0].value.isdigit() or rest[0].value.upper() in _CLASSES):
        rest = rest[1:]  # a TTL and the class, in either order
    if not rest or not rest[0].is_identifier():
        raise ValueError(f'expected a record type after {name} (write: name TXT "value")')
    if rest[0].value.upper() != "TXT":
        return name, None
    if not rest[1:]:
        raise ValueError(f'{name} has TXT but no value: {name} TXT "..."')
    if not all(t.is_quoted_string() for t in rest[1:]):
        raise ValueError(f'the value of {name} must be in double quotes: {name} TXT "..."')
    return name, "".join(t.unescape_to_bytes().value.decode("utf-8", "replace") for t in rest[1:])


class DnsTxt:
    """TXT records from this machine's resolver; Unreachable when it cannot answer for the internet."""

    where: str = Phrase("DNS")

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.resolver = dns.resolver.Resolver()
        self.resolver.timeout = self.resolver.lifetime = timeout
        self._unreachable: str | None = None
        self._probed = False

    def _probe(self) -> None:
        if self._probed:
            return
        self._probed = True
        try:
            self.resolver.resolve(".", "NS")
        except dns.exception.Timeout:
            self._unreachable = "the resolver did not answer in time"
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            self._unreachable = "the resolver does not know the internet's root zone"
        except dns.exception.DNSException as exc:
            self._unreachable = str(exc).splitlines()[0] or type(exc).__name__

    def txt(self, name: str) -> list[str]:
        self._probe()
        if self._unreachable is not None:
            raise Unreachable(self._unreachable)
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise Unreachable(str(exc).splitlines()[0] or type(exc).__name__) from None
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
