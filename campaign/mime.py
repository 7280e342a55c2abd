"""The newsletter as an RFC 5322 message: header safety, and a per-segment skeleton that is
filled in per recipient in microseconds.

The skeleton (static headers and the multipart/alternative structure) is built once per
segment with the stdlib's ``EmailMessage`` and serialised with the SMTP policy (CRLF).
The bodies are quoted-printable: each literal stretch between personal fields is encoded
once, and ends with a soft line break, so a recipient's values are encoded on lines of
their own and the message is a join of precomputed bytes. Decoding joins the soft-broken
lines back into exactly the text that was rendered.
"""

from __future__ import annotations

import binascii
import codecs
import datetime as dt
import html
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache

from campaign.errors import WavecastError

MAX_HEADER_VALUE = 900  # under RFC 5322's 998 octets per line, with room for the name
MAX_FIELD_VALUE = 300  # the longest personal field a contact may hold (organisation_name)
TEST_PREFIX = "[TEST] "

# Line breaks and other controls, in every form a mail client might honour.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
# RFC 6531: an internationalised mailbox name is atext plus any non-ASCII character, no space.
_UTF8_LOCAL = re.compile(r"(?:[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]|[^\x00-\x7f\s])+")
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")
_URL = re.compile(r"https?://[\x21\x23-\x3b\x3d\x3f-\x5b\x5d-\x7e]+")


class UnsafeHeader(WavecastError):
    """A header value that could inject headers (CR, LF and their lookalikes) or is malformed."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _decode_word(charset: str, encoding: str, text: str) -> str | None:
    try:
        data = (
            binascii.a2b_qp(text.encode("ascii"), header=True)
            if encoding in "Qq"
            else binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
        )
        return data.decode(codecs.lookup(charset.split("*")[0]).name, errors="replace")
    except (LookupError, ValueError, binascii.Error):
        return None


def check_header(field: str, value: str) -> str:
    """Return value if it is safe in a header; otherwise raise UnsafeHeader naming the field.

    Refuses CR, LF, the other C0 controls, NEL, U+2028/U+2029, RFC 2047 encoded words that
    decode to any of those, and values too long for one header line.
    """
    bad = _UNSAFE.search(value)
    if bad is not None:
        what = "a line break" if bad.group() in "\r\n\x85\u2028\u2029\x0b\x0c" else "a control character"
        where = "at the end" if bad.end() == len(value) else f"at position {bad.start() + 1}"
        raise UnsafeHeader(field, f"contains {what} ({bad.group()!r}) {where}; header values must be one line")
    for word in _ENCODED_WORD.finditer(value):
        decoded = _decode_word(*word.groups())
        if decoded is None:
            raise UnsafeHeader(field, f"contains a malformed encoded word {word.group()!r}")
        if _UNSAFE.search(decoded):
            raise UnsafeHeader(field, f"contains an encoded word {word.group()!r} that decodes to a line break")
    if len(value) > MAX_HEADER_VALUE:
        raise UnsafeHeader(field, f"is {len(value)} characters long; the limit is {MAX_HEADER_VALUE}")
    return value


def check_field(field: str, value: str, limit: int = MAX_FIELD_VALUE) -> str:
    """A personal field's value: one line, short. It may reach the subject."""
    check_header(field, value)
    if len(value) > limit:
        raise UnsafeHeader(field, f"is {len(value)} characters long; the limit is {limit}")
    return value


def _encoded_words(value: str) -> list[bytes]:
    """RFC 2047 encoded words (UTF-8, base64), each short enough for a folded line."""
    data = value.encode("utf-8")
    words = []
    start = 0
    while start < len(data):
        end = min(start + 36, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a character
            end -= 1
        words.append(b"=?utf-8?b?" + binascii.b2a_base64(data[start:end], newline=False) + b"?=")
        start = end
    return words


def encode_header(name: str, value: str) -> bytes:
    """``Name: value`` + CRLF; RFC 2047 (UTF-8, base64) when not short plain ASCII."""
    if value.isascii() and "=?" not in value and len(name) + 2 + len(value) <= 78:
        return f"{name}: {value}\r\n".encode("ascii")
    return name.encode("ascii") + b": " + b"\r\n ".join(_encoded_words(value)) + b"\r\n"


def check_address(field: str, value: str) -> str:
    """An address header value (``a@b`` or ``Name <a@b>``), safe on the wire.

    The domain goes out in its ASCII (IDNA) form. A mailbox name outside ASCII is kept as
    UTF-8 (RFC 6532): such a message needs a relay that offers SMTPUTF8 (``needs_smtputf8``).
    Reasons never repeat the value: it may be a person's address.
    """
    check_header(field, value)
    if _ADDRESS.fullmatch(value):
        return value
    name, addr = parseaddr(value)
    local, _, domain = addr.rpartition("@")
    # parseaddr is lenient ("a@exa mple.org" reads as a@example.org): the address must be there as written.
    if not local or not domain or addr not in value:
        raise UnsafeHeader(field, "is not an e-mail address")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeHeader(field, "has a domain that is not a valid internationalised name") from None
    ascii_local = local if local.isascii() else "x"
    if not _UTF8_LOCAL.fullmatch(local) or not _ADDRESS.fullmatch(f"{ascii_local}@{domain}"):
        raise UnsafeHeader(field, "is not an e-mail address")
    addr = f"{local}@{domain}"
    if not name:
        return addr
    # formataddr encodes the name (RFC 2047) but refuses a UTF-8 mailbox: format an ASCII
    # stand-in and put the real address in its place.
    return formataddr((name, "x@x"), charset="utf-8").removesuffix("<x@x>") + f"<{addr}>"


def envelope_address(address: str) -> str:
    """The address for SMTP's MAIL FROM / RCPT TO: the domain in its ASCII (IDNA) form, so that
    only a mailbox name outside ASCII, never the domain, calls for SMTPUTF8."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def needs_smtputf8(address: str) -> bool:
    """True for a mailbox name outside ASCII: only a relay offering SMTPUTF8 can take it."""
    return not envelope_address(address).isascii()


def message_id(campaign_id: str, wave_id: str, contact_id: int | str, channel: str, domain: str) -> str:
    """The deterministic Message-ID of one message: a resend carries the same id, so a
    receiver can recognise the duplicate that a crash between accept and mark can cause."""
    value = f"<{campaign_id}.{wave_id}.{contact_id}.{channel}@{domain}>"
    if not _MESSAGE_ID.fullmatch(value):
        raise UnsafeHeader("Message-ID", f"{value!r} is not a valid message id")
    return value


# ---------------------------------------------------------------------------- list headers

_LIST_PART = re.compile(r"[A-Za-z0-9-]{1,63}")
_DOMAIN = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
MAX_LIST_ID = 255  # RFC 2919's limit for the part in angle brackets
FEEDBACK_SENDER = "wavecast"  # the SenderId of Feedback-ID: the same on every message we send


@dataclass(frozen=True)
class ListIdentity:
    """The mailing list a newsletter belongs to, named by the headers bulk senders are judged by.

    ``List-Id`` (RFC 2919) names one list per wave of a campaign, under the From domain:
    ``"<campaign name>" <wave.campaign.domain>``; mail clients filter on it and mailbox
    providers group a sender's mail by it. ``Feedback-ID`` is Gmail's feedback loop key,
    ``wave:audience:campaign:wavecast``: its complaint reports count per identifier, so a
    wave or an audience that draws complaints shows up on its own. Identifiers are campaign
    ids (letters, digits, hyphens), checked again here, so no value can break either header.
    """

    campaign_id: str
    campaign_name: str
    wave_id: str
    audience_id: str

    def headers(self, domain: str) -> bytes:
        """The List-Id and Feedback-ID fields (CRLF), for a message from `domain`."""
        for field, value in (
            ("campaign id", self.campaign_id),
            ("wave id", self.wave_id),
            ("audience id", self.audience_id),
        ):
            if not _LIST_PART.fullmatch(value):
                raise UnsafeHeader(field, f"{value!r} is not letters, digits and hyphens")
        try:
            domain = domain.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise UnsafeHeader("List-Id", "the sender's domain is not a valid internationalised name") from None
        if not _DOMAIN.fullmatch(domain):
            raise UnsafeHeader("List-Id", f"{domain!r} is not a domain name")
        list_id = f"{self.wave_id}.{self.campaign_id}.{domain}".lower()
        if len(list_id) > MAX_LIST_ID:
            raise UnsafeHeader("List-Id", f"is {len(list_id)} characters long; the limit is {MAX_LIST_ID}")
        name = check_header("campaign name", self.campaign_name)
        if name.isascii() and "=?" not in name:
            phrase = [('"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"').encode("ascii")]
        else:
            phrase = _encoded_words(name)
        line, lines = b"List-Id:", []
        for word in (*phrase, b"<" + list_id.encode("ascii") + b">"):
            if len(line) + 1 + len(word) > 78 and line != b"List-Id:":
                lines.append(line)  # folded between words: lines of at most 78 where words allow
                line = b""
            line += b" " + word
        lines.append(line)
        feedback = f"{self.wave_id}:{self.audience_id}:{self.campaign_id}:{FEEDBACK_SENDER}"
        return b"\r\n".join(lines) + b"\r\n" + f"Feedback-ID: {feedback}\r\n".encode("ascii")


# ---------------------------------------------------------------------------- slots


@dataclass(frozen=True)
class Parts:
    """A rendered text cut at its per-recipient slots: literals[0], slot, literals[1], ..."""

    literals: tuple[str, ...]
    slots: tuple[int, ...]

    @classmethod
    def split(cls, text: str, tokens: Sequence[str]) -> Parts:
        if not any(t in text for t in tokens):
            return cls((text,), ())
        pattern = re.compile("|".join(re.escape(t) for t in tokens))
        literals, slots, last = [], [], 0
        for match in pattern.finditer(text):
            literals.append(text[last : match.start()])
            slots.append(tokens.index(match.group()))
            last = match.end()
        literals.append(text[last:])
        return cls(tuple(literals), tuple(slots))

    def fill(self, values: Sequence[str]) -> str:
        if not self.slots:
            return self.literals[0]
        out = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            out.append(values[slot])
            out.append(literal)
        return "".join(out)


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def qp(text: str) -> bytes:
    """Quoted-printable with CRLF line ends, leaving room for one more character on the
    last line (the sentinel trick: encode with a trailing 'X', then drop it)."""
    out = binascii.b2a_qp(text.encode("utf-8") + b"X")[:-1]
    return out.replace(b"=\n", b"=\r\n") if b"=\n" in out else out


_SOFT = b"=\r\n"


class _QPBody:
    """A body part as precomputed quoted-printable pieces around its slots."""

    __slots__ = ("literals", "slots", "used")

    def __init__(self, parts: Parts) -> None:
        encoded = [qp(_crlf(lit)) for lit in parts.literals]
        self.literals = [e + _SOFT for e in encoded[:-1]] + [encoded[-1]]
        self.slots = parts.slots
        self.used = sorted(set(parts.slots))

    def encode(self, values: Sequence[str], *, escape: bool) -> list[bytes]:
        """Each used value encoded on lines of its own, HTML-escaped for an HTML part."""
        out = [b""] * len(values)
        for slot in self.used:
            value = html.escape(values[slot]) if escape else values[slot]
            out[slot] = qp(value) + _SOFT
        return out

    def extend(self, out: list[bytes], encoded_values: Sequence[bytes]) -> None:
        literals = self.literals
        out.append(literals[0])
        for i, slot in enumerate(self.slots):
            out.append(encoded_values[slot])
            out.append(literals[i + 1])


_DATE_CACHE: list[object] = [-1, b""]


def date_header(when: dt.datetime | None) -> bytes:
    """The Date header with a numeric zone (RFC 5322 3.3): ``+0100`` keeps the sender's local
    time readable, where the obsolete ``GMT``/``UTC`` names are what spam filters score.

    A given time keeps its own offset (a preview dated at a Brussels start says ``+0100`` or
    ``+0200``); a naive one is read as the machine's local time; now is stated in UTC, ``+0000``
    (never ``-0000``, which means "zone unknown").
    """
    if when is not None:
        aware = when if when.tzinfo is not None else when.astimezone()
        return f"Date: {format_datetime(aware)}\r\n".encode("ascii")
    now = int(time.time())
    if _DATE_CACHE[0] != now:
        _DATE_CACHE[0] = now
        stamp = format_datetime(dt.datetime.fromtimestamp(now, dt.UTC))
        _DATE_CACHE[1] = f"Date: {stamp}\r\n".encode("ascii")
    return _DATE_CACHE[1]  # type: ignore[return-value]


_TEXT_MARK = "WavecastTextBodyMark"
_HTML_MARK = "WavecastHtmlBodyMark"
_HASH_MARK = b"0" * 64


@cache
def _skeleton(name: str, address: str, reply_to: str | None, lang: str) -> tuple[bytes, bytes, bytes]:
    """Static headers and the multipart structure, serialised once by the stdlib with CRLF."""
    msg = EmailMessage(policy=policy.SMTP)
    msg.set_content(_TEXT_MARK, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(_HTML_MARK, subtype="html", charset="utf-8", cte="quoted-printable")
    # Quoted-printable never emits "=_", so this boundary cannot occur inside a body.
    msg.set_boundary(f"=_wavecast_{_HASH_MARK[:32].decode()}")
    # After the bodies: set_content drops every Content-* header, Content-Language included.
    msg["From"] = Address(display_name=name, addr_spec=address)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Content-Language"] = lang
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for part in msg.iter_parts():
        del part["MIME-Version"]  # the stdlib adds it to sub-parts too; it belongs at the top
    raw = msg.as_bytes(policy=policy.SMTP)
    head, _, rest = raw.partition(b"\r\n\r\n")
    if b"MIME-Version" not in head:
        head = b"MIME-Version: 1.0\r\n" + head
    before, _, rest = rest.partition(_TEXT_MARK.encode() + b"\r\n")
    between, _, tail = rest.partition(_HTML_MARK.encode() + b"\r\n")
    # The CRLF before each boundary belongs to the delimiter, so it stays in between/tail.
    return head + b"\r\n\r\n" + before, between, tail


class MimeTemplate:
    """One segment's message with holes for To, Subject, Date, Message-ID, List-Unsubscribe
    and the personal fields. ``build`` fills them; nothing else is computed per recipient
    (List-Id and Feedback-ID are the segment's, written once here)."""

    def __init__(
        self,
        *,
        sender_name: str,
        sender_address: str,
        reply_to: str | None,
        lang: str,
        content_hash: str,
        identity: ListIdentity,
        subject: Parts,
        text: Parts,
        html_body: Parts,
        fields: Sequence[str],
        fallbacks: Sequence[str],
    ) -> None:
        check_header("sender name", sender_name)
        check_address("sender address", sender_address)
        if reply_to is not None:
            check_address("reply-to address", reply_to)
        self.fields = tuple(fields)
        self.fallbacks = tuple(fallbacks)
        self.subject = subject
        self._subject_cache = (
            {
                test: encode_header("Subject", (TEST_PREFIX if test else "") + subject.literals[0])
                for test in (False, True)
            }
            if not subject.slots
            else {}
        )
        self._text = _QPBody(text)
        self._html = _QPBody(html_body)
        self._mailto = f"<mailto:unsubscribe@{sender_address.rpartition('@')[2]}?subject=unsubscribe>"
        if len(content_hash) != len(_HASH_MARK) or not content_hash.isalnum() or not content_hash.isascii():
            raise ValueError("content_hash must be a SHA-256 hex digest")
        # One skeleton per sender and language; only the content hash (a header and the
        # boundary) differs between segments, and it has a fixed length.
        head, between, tail = _skeleton(sender_name, sender_address, reply_to, lang)
        digest = content_hash.encode("ascii")
        # Unfolded (84 characters, within RFC 5322's 998) so that parsers read it back exactly.
        self._head = (
            b"X-Wavecast-Content: "
            + digest
            + b"\r\n"
            + identity.headers(sender_address.rpartition("@")[2])
            + head.replace(_HASH_MARK[:32], digest[:32])
        )
        self._between = between.replace(_HASH_MARK[:32], digest[:32])
        self._tail = tail.replace(_HASH_MARK[:32], digest[:32])

    def values(self, fields: Mapping[str, str]) -> list[str]:
        """The personal values in slot order; a missing or empty one gets its fallback."""
        out = []
        for name, fallback in zip(self.fields, self.fallbacks, strict=True):
            value = fields.get(name) or fallback
            out.append(check_field(f"contact.{name}", value))
        return out

    def build(
        self,
        to: str,
        fields: Mapping[str, str],
        unsubscribe_url: str,
        message_id: str,
        *,
        test: bool = False,
        date: dt.datetime | None = None,
    ) -> bytes:
        """The complete message, CRLF line ends, ready for SMTP ``sendmail``."""
        to = check_address("To", to)
        if not _MESSAGE_ID.fullmatch(message_id):
            raise UnsafeHeader("Message-ID", f"{message_id!r} is not a valid message id (<id@domain>)")
        if not _URL.fullmatch(unsubscribe_url):
            raise UnsafeHeader(
                "List-Unsubscribe", f"{unsubscribe_url!r} is not an http(s) URL without spaces or quotes"
            )
        values = self.values(fields)
        values.append(unsubscribe_url)
        if self.subject.slots:
            subject = encode_header("Subject", (TEST_PREFIX if test else "") + self.subject.fill(values))
        else:
            subject = self._subject_cache[test]
        text_values = self._text.encode(values, escape=False)
        html_values = self._html.encode(values, escape=True)
        out = [
            date_header(date),
            b"Message-ID: " + message_id.encode("ascii") + b"\r\n",
            b"To: " + to.encode("utf-8") + b"\r\n",
            subject,
            b"List-Unsubscribe: <"
            + unsubscribe_url.encode("ascii")
            + b">,\r\n "
            + self._mailto.encode("ascii")
            + b"\r\n",
            self._head,
        ]
        self._text.extend(out, text_values)
        out.append(self._between)
        self._html.extend(out, html_values)
        out.append(self._tail)
        return b"".join(out)
