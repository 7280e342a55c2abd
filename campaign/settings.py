"""Every setting wavecast reads, in one place: environment variables with the WAVECAST_ prefix.

They are read once (``get_settings`` is cached); tests that change the environment call
``get_settings.cache_clear()``. Every entry point (the CLI, ``wavecast serve``, the scheduler,
the Celery worker) reads them before it does anything else, so a bad value stops the process at
start-up with the variable's name (exit 2) instead of failing later, half-way through a wave.
A value is never echoed when it is a secret, and a URL is shown with its password masked.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from campaign.channel_ids import declarations
from campaign.errors import SettingsError

PREFIX = "WAVECAST_"
_DEFAULT_SECRET = "wavecast-embedded-default-not-secret"  # noqa: S105 - only for the embedded default
_DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Read by the test and benchmark harnesses, never by wavecast itself; not typos.
HARNESS_PREFIXES = ("WAVECAST_TEST_", "WAVECAST_BENCH_", "WAVECAST_FUZZ_", "WAVECAST_FAULTS_", "WAVECAST_REGENERATE_")
# Anything that is neither printable ASCII nor a space-free URL character is refused in URLs:
# a pasted line break or space would otherwise reach a connection string or every e-mail.
_URL_CHARS = re.compile(r"^[\x21-\x7e]+$")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class SmtpRelay:
    """The relay's address, parsed once here; user and password are percent-decoded."""

    host: str
    port: int
    tls: bool  # smtps://: TLS from the first byte
    starttls: bool  # smtp://...?starttls=1: upgrade after EHLO
    user: str | None
    password: str | None


@dataclass(frozen=True)
class DkimKey:
    """Where the DKIM private key is and the selector it is published under (WAVECAST_DKIM_*).

    The signing domain is each message's From domain; the algorithm follows the key."""

    key_file: Path
    selector: str


@dataclass(frozen=True)
class BouncePolicy:
    """What bounces and complaints do (WAVECAST_BOUNCE_*, WAVECAST_SOFT_BOUNCE_*, WAVECAST_BREAKER_*).

    `address`: the return path's mailbox; each message gets ``local+TOKEN@domain`` (VERP). None:
    ``bounces@`` the campaign's From domain."""

    address: str | None = None
    soft_limit: int = 3  # soft bounces within `soft_window_days` that suppress the address
    soft_window_days: int = 30
    breaker_window: int = 1000  # a wave's last N messages the breaker judges
    breaker_min_messages: int = 100  # fewer sent than this: too few to judge
    breaker_hard_rate: float = 0.05
    breaker_complaint_rate: float = 0.003
    imap_url: str | None = None  # imap(s)://user:password@host[:port]/MAILBOX, polled for bounces
    mailgun_signing_key: str | None = field(default=None, repr=False)
    sns_topic_arns: tuple[str, ...] = ()  # SES notifications are accepted from these topics only
    sns_cert_dir: Path | None = None  # certificates SNS signs with, cached by URL


@dataclass(frozen=True)
class OidcProvider:
    """The organisation's OpenID Connect provider: its issuer URL and this app's client."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    database_url: str
    broker_url: str | None
    smtp_url: str | None
    outbox_dir: Path
    secret_key: str
    base_url: str
    send_lease_seconds: int
    sweep_interval_seconds: int
    scheduler_lease_seconds: int
    misfire_grace_seconds: int
    max_attempts: int
    chunk_size: int
    ledger_batch_size: int
    rate_per_second: float
    smtp_timeout_seconds: float
    retry_base_seconds: float
    smtp_connections: int
    smtp_messages_per_connection: int
    social_webhook_url: str | None
    redis_prefix: str
    social_webhook_secret: str | None
    retry_max_seconds: float
    visibility_timeout_seconds: int
    smtp: SmtpRelay | None = None
    allow_insecure_relay: bool = False
    editor_commits: bool = False  # a save in the web editor becomes a git commit by its author
    # Each channel's own settings (WAVECAST_<CHANNEL>_*), by channel id, as its module reads them.
    channels: Mapping[str, object] = field(default_factory=dict)
    dkim: DkimKey | None = None  # unset: messages go unsigned (doctor fails a real relay without it)
    bounces: BouncePolicy = BouncePolicy()
    campaign_dir: Path | None = None  # WAVECAST_CAMPAIGN: the campaign commands use unless given one
    # Subscribe requests allowed per hour for one address, and for one client (keyed hash of the IP).
    subscribe_per_address: int = 3
    subscribe_per_client: int = 20
    token: str | None = None  # WAVECAST_TOKEN: the personal API token the CLI acts with
    token_file: Path = Path("~/.config/wavecast/token")  # where `wavecast login` keeps it (mode 0600)
    session_idle_minutes: int = 30  # a web session unused this long is signed out
    oidc: OidcProvider | None = None  # single sign-on; unset: password sign-in only

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: tasks run in-process."""
        return self.broker_url is None

    @property
    def public_secret(self) -> bool:
        """True when WAVECAST_SECRET_KEY is the embedded default's published value."""
        return self.secret_key == _DEFAULT_SECRET


def mask_url(raw: str) -> str:
    """A URL safe to print: the password (between ``user:`` and ``@``) replaced by ``***``.

    Works on text that does not parse as a URL too, since that is when it gets printed."""
    return re.sub(r"(//[^/?#@:]*:)[^@]*@", r"\1***@", raw)


def shown_value(raw: str, limit: int = 80) -> str:
    text = raw if len(raw) <= limit else raw[:limit] + "…"
    return repr(text)


class _Env:
    """The environment being read; remembers every WAVECAST_* name asked for, so that any
    other one left over afterwards can be reported as a typo."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.read: set[str] = set()

    def raw(self, name: str) -> str | None:
        self.read.add(name)
        value = self.env.get(name)
        return None if value is None or value == "" else value

    def text(self, name: str, default: str, limit: int = 1000) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise SettingsError(f"{name}: expected one line of at most {limit} characters")
        return value

    def secret(self, name: str) -> str | None:
        """A secret is checked like text, but its value never appears in a message."""
        return self.text(name, "", limit=1000) or None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name}={shown_value(raw)}: expected a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise SettingsError(f"{name}={shown_value(raw)}: must be from {low} to {high}")
        return value

    def number(self, name: str, default: float, low: float, high: float, *, above_low: bool = False) -> float:
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name}={shown_value(raw)}: expected a number from {low:g} to {high:g}") from None
        # float() takes 'nan', 'inf' and '1e999' (= inf): none is a usable time or rate.
        if not math.isfinite(value):
            raise SettingsError(f"{name}={shown_value(raw)}: expected a finite number from {low:g} to {high:g}")
        if value > high or value < low or (above_low and value == low):
            relation = f"above {low:g}" if above_low else f"from {low:g}"
            raise SettingsError(f"{name}={shown_value(raw)}: must be {relation} to {high:g}")
        return value

    def flag(self, name: str) -> bool:
        raw = (self.raw(name) or "").strip().lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise SettingsError(f"{name}={shown_value(raw)}: expected 1 or 0")

    def url(self, name: str, schemes: tuple[str, ...], default: str | None = None) -> SplitResult | None:
        """A URL with one of ``schemes``, a host and (if given) a valid port; errors mask the password."""
        raw = self.raw(name) or default
        if raw is None:
            return None
        shown = shown_value(mask_url(raw))
        parts, port = split_url(name, raw)
        if parts.scheme not in schemes:
            raise SettingsError(
                f"{name}={shown}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}"
            )
        if not parts.hostname:
            raise SettingsError(f"{name}={shown}: the URL has no host")
        if port == 0:
            raise SettingsError(f"{name}={shown}: port 0 is not a port to connect to")
        return parts


def _reason(exc: ValueError) -> str:
    text = str(exc)
    # urllib's message for a bad port quotes the port text only; anything longer is not ours to echo.
    return "the port must be a number from 1 to 65535" if "port" in text.lower() else "it cannot be parsed"


def _database_url(env: _Env) -> str:
    name = PREFIX + "DATABASE_URL"
    raw = env.raw(name) or "sqlite:///wavecast.db"
    shown = shown_value(mask_url(raw))
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise SettingsError(f"{name}={shown}: a URL has no line breaks or control characters")
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise SettingsError(f"{name}={shown}: not a database URL (sqlite:///FILE or postgresql://…)") from None
    shown = shown_value(url.render_as_string(hide_password=True))
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if (backend, driver) not in {("sqlite", "pysqlite"), ("postgresql", "psycopg")}:
        raise SettingsError(
            f"{name}={shown}: wavecast supports sqlite:///FILE and postgresql://… (psycopg 3), not {url.drivername}"
        )
    if url.port is not None and not 0 < url.port < 65536:
        raise SettingsError(f"{name}={shown}: the port must be from 1 to 65535")
    return raw


def _smtp(env: _Env) -> tuple[str | None, SmtpRelay | None]:
    name = PREFIX + "SMTP_URL"
    parts = env.url(name, ("smtp", "smtps"))
    if parts is None:
        return None, None
    shown = shown_value(mask_url(parts.geturl()))
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - {"starttls"}
    if unknown:
        raise SettingsError(f"{name}={shown}: unknown option {sorted(unknown)[0]!r} (only starttls=1 is known)")
    starttls = options.get("starttls", "0").lower()
    if starttls not in _TRUE | _FALSE:
        raise SettingsError(f"{name}={shown}: starttls must be 1 or 0")
    tls = parts.scheme == "smtps"
    relay = SmtpRelay(
        host=parts.hostname or "",
        port=parts.port or (465 if tls else 25),
        tls=tls,
        starttls=starttls in _TRUE,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
    return parts.geturl(), relay


def _base_url(env: _Env) -> str:
    name = PREFIX + "BASE_URL"
    parts = env.url(name, ("http", "https"), default=_DEFAULT_BASE_URL)
    assert parts is not None
    shown = shown_value(mask_url(parts.geturl()))
    # Every unsubscribe link is this address + /u/...: it must be absolute, public and plain.
    if parts.query or parts.fragment:
        raise SettingsError(f"{name}={shown}: the public address takes no ?query or #fragment")
    if parts.username is not None or parts.password is not None:
        raise SettingsError(f"{name}={shown}: the public address goes into every e-mail; it takes no user or password")
    return parts.geturl().rstrip("/")


@dataclass(frozen=True)
class HttpEndpoint:
    """A channel's plain HTTP API: where to POST, and the bearer token it is sent with."""

    url: str
    token: str | None = field(default=None, repr=False)


class ChannelEnv:
    """One channel's own settings, `WAVECAST_<CHANNEL>_<NAME>`, read and checked by the same
    rules as every other setting (and counted as read, so a typo of one is still reported)."""

    def __init__(self, env: _Env, channel: str) -> None:
        self._env = env
        self.prefix = f"{PREFIX}{channel.upper()}_"

    def raw(self, name: str) -> str | None:
        """The value as given (counted as read), for a setting the channel parses itself."""
        return self._env.raw(self.prefix + name)

    def endpoint(self, url_name: str, token_name: str) -> HttpEndpoint | None:
        """An http(s) URL without credentials in it (URLs get printed), and its bearer token in a
        setting of its own. None when the URL is unset."""
        name = self.prefix + url_name
        parts = self._env.url(name, ("http", "https"))
        token = _bearer_token(self._env, self.prefix + token_name)
        if parts is None:
            return None
        if parts.username is not None or parts.password is not None:
            raise SettingsError(
                f"{name}={shown_value(mask_url(parts.geturl()))}: put no user or password in the URL; "
                f"give the token in {self.prefix + token_name}"
            )
        return HttpEndpoint(parts.geturl(), token)


def _channel_settings(env: _Env) -> dict[str, object]:
    """Each channel's own settings, read by the rules its module declares (campaign/channels/)."""
    return {d.id: d.settings(ChannelEnv(env, d.id)) for d in declarations() if d.settings is not None}


def split_url(where: str, raw: str) -> tuple[SplitResult, int | None]:
    """The URL's parts and port; errors name `where` and mask the password."""
    shown = shown_value(mask_url(raw))
    if not _URL_CHARS.match(raw):
        raise SettingsError(f"{where}={shown}: a URL has no spaces, line breaks or non-ASCII characters")
    try:
        parts = urlsplit(raw)
        return parts, parts.port
    except ValueError as exc:
        raise SettingsError(f"{where}={shown}: not a valid URL ({_reason(exc)})") from None


def _bearer_token(env: _Env, name: str) -> str | None:
    """A token sent as `Authorization: Bearer ...`: visible ASCII only, or no HTTP header can carry it."""
    token = env.secret(name)
    if token is not None and not all(33 <= ord(c) <= 126 for c in token):
        raise SettingsError(f"{name}: a bearer token is visible ASCII characters only, without spaces")
    return token


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_SELECTOR = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_MAILBOX = re.compile(r"^[A-Za-z0-9._-]{1,40}@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}$")
_TOPIC_ARN = re.compile(r"^arn:aws:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$")


def _dkim(env: _Env) -> DkimKey | None:
    key_name, selector_name = PREFIX + "DKIM_KEY_FILE", PREFIX + "DKIM_SELECTOR"
    key_file = env.text(key_name, "", limit=4096)
    selector = env.text(selector_name, "", limit=253)
    if not key_file and not selector:
        return None
    if not key_file or not selector:
        missing = key_name if not key_file else selector_name
        raise SettingsError(f"{missing} is not set: DKIM signing needs both {key_name} and {selector_name}")
    if not _SELECTOR.match(selector):
        raise SettingsError(
            f"{selector_name}={shown_value(selector)}: a selector is DNS labels (letters, digits, -, .)"
        )
    return DkimKey(key_file=Path(key_file), selector=selector)


def _bounce_policy(env: _Env) -> BouncePolicy:
    p = PREFIX
    address = env.text(p + "BOUNCE_ADDRESS", "", limit=200) or None
    if address is not None and (not _MAILBOX.match(address) or "+" in address):
        raise SettingsError(
            f"{p}BOUNCE_ADDRESS={shown_value(address)}: expected a plain mailbox such as bounces@example.org "
            "(letters, digits, . _ -, no +: wavecast adds +TOKEN to it)"
        )
    imap = env.url(p + "BOUNCE_IMAP_URL", ("imap", "imaps"))
    arns = tuple(a.strip() for a in env.text(p + "SNS_TOPIC_ARNS", "", limit=4000).split(",") if a.strip())
    for arn in arns:
        if not _TOPIC_ARN.match(arn):
            raise SettingsError(
                f"{p}SNS_TOPIC_ARNS: {shown_value(arn)} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
            )
    cert_dir = env.text(p + "SNS_CERT_DIR", "", limit=4096)
    return BouncePolicy(
        address=address.lower() if address else None,
        soft_limit=env.integer(p + "SOFT_BOUNCE_LIMIT", 3, 1, 100),
        soft_window_days=env.integer(p + "SOFT_BOUNCE_WINDOW_DAYS", 30, 1, 365),
        breaker_window=env.integer(p + "BREAKER_WINDOW", 1000, 10, 1_000_000),
        breaker_min_messages=env.integer(p + "BREAKER_MIN_MESSAGES", 100, 1, 1_000_000),
        breaker_hard_rate=env.number(p + "BREAKER_HARD_BOUNCE_RATE", 0.05, 0, 1, above_low=True),
        breaker_complaint_rate=env.number(p + "BREAKER_COMPLAINT_RATE", 0.003, 0, 1, above_low=True),
        imap_url=imap.geturl() if imap else None,
        mailgun_signing_key=env.secret(p + "MAILGUN_SIGNING_KEY"),
        sns_topic_arns=arns,
        sns_cert_dir=Path(cert_dir) if cert_dir else None,
    )


def _campaign_dir(env: _Env) -> Path | None:
    """WAVECAST_CAMPAIGN names the campaign directory once for every command; whether it holds a
    campaign is checked where a command opens it, with the file's own message."""
    value = env.text(PREFIX + "CAMPAIGN", "", limit=4096)
    return Path(value) if value else None


def _oidc(env: _Env) -> OidcProvider | None:
    """WAVECAST_OIDC_ISSUER with its client id and secret, all three or none. http is for a
    provider on loopback only (a test's), as for every other service."""
    issuer = env.url(PREFIX + "OIDC_ISSUER", ("https", "http"))
    client_id = env.text(PREFIX + "OIDC_CLIENT_ID", "", limit=300)
    secret = env.secret(PREFIX + "OIDC_CLIENT_SECRET")
    if issuer is None and not client_id and not secret:
        return None
    if issuer is None or not client_id or not secret:
        raise SettingsError(
            f"single sign-on needs {PREFIX}OIDC_ISSUER, {PREFIX}OIDC_CLIENT_ID and {PREFIX}OIDC_CLIENT_SECRET together"
        )
    if issuer.scheme == "http" and issuer.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SettingsError(f"{PREFIX}OIDC_ISSUER: http is for a provider on this machine only; use https")
    return OidcProvider(issuer.geturl().rstrip("/"), client_id, secret)


def _unknown(env: _Env) -> None:
    """A WAVECAST_* variable nothing reads is almost always a typo of one that is read."""
    for name in sorted(env.env):
        if not name.startswith(PREFIX) or name in env.read or name.startswith(HARNESS_PREFIXES):
            continue
        close = difflib.get_close_matches(name, sorted(env.read), n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise SettingsError(f"{name} is not a wavecast setting{hint}; the settings are listed in the README")


def _relay_is_safe(settings: Settings) -> None:
    """A real relay sends to real people: their unsubscribe links must be signed with a key of
    this installation and, for RFC 8058 one-click unsubscribe, served over https. The .eml outbox
    of the embedded default sends to no one and is exempt; a test relay on loopback opts out
    explicitly."""
    if settings.smtp is None or settings.allow_insecure_relay:
        return
    override = f"(for a test relay only: {PREFIX}ALLOW_INSECURE_RELAY=1)"
    if settings.secret_key == _DEFAULT_SECRET:
        raise SettingsError(
            f"{PREFIX}SECRET_KEY is the public default, and {PREFIX}SMTP_URL sends to real people: "
            f"set a secret of this installation {override}"
        )
    if not settings.base_url.startswith("https://"):
        raise SettingsError(
            f"{PREFIX}BASE_URL={shown_value(settings.base_url)} is not https, "
            f"and {PREFIX}SMTP_URL sends to real people: "
            f"one-click unsubscribe (RFC 8058) needs an https address {override}"
        )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build and check settings from an environment mapping; raises SettingsError naming the variable."""
    read = _Env(dict(os.environ if env is None else env))
    p = PREFIX
    day = 86400
    visibility = read.integer(p + "VISIBILITY_TIMEOUT_SECONDS", 3600, 60, 7 * day)
    lease = read.integer(p + "SEND_LEASE_SECONDS", 300, 1, day)
    retry_base = read.number(p + "RETRY_BASE_SECONDS", 10.0, 0, 3600)
    retry_max = read.number(p + "RETRY_MAX_SECONDS", 300.0, 0, 3 * day)
    # A retry delay or a task that outlives the broker's visibility timeout gets redelivered
    # while it is still waiting or running: keep both well under it.
    if retry_max * 2 > visibility:
        raise SettingsError(
            f"{p}RETRY_MAX_SECONDS={retry_max:g} must stay under half of {p}VISIBILITY_TIMEOUT_SECONDS={visibility}"
        )
    if lease * 2 > visibility:
        raise SettingsError(
            f"{p}SEND_LEASE_SECONDS={lease} must stay under half of {p}VISIBILITY_TIMEOUT_SECONDS={visibility}"
        )
    if retry_base > retry_max:
        raise SettingsError(f"{p}RETRY_BASE_SECONDS={retry_base:g} must not exceed {p}RETRY_MAX_SECONDS={retry_max:g}")
    broker = read.url(p + "BROKER_URL", ("redis", "rediss"))
    smtp_url, smtp = _smtp(read)
    webhook = read.url(p + "SOCIAL_WEBHOOK_URL", ("http", "https"))
    settings = Settings(
        database_url=_database_url(read),
        broker_url=broker.geturl() if broker else None,
        smtp_url=smtp_url,
        outbox_dir=Path(read.text(p + "OUTBOX_DIR", "outbox", limit=4096)),
        secret_key=read.secret(p + "SECRET_KEY") or _DEFAULT_SECRET,
        base_url=_base_url(read),
        send_lease_seconds=lease,
        sweep_interval_seconds=read.integer(p + "SWEEP_INTERVAL_SECONDS", 60, 1, day),
        scheduler_lease_seconds=read.integer(p + "SCHEDULER_LEASE_SECONDS", 30, 2, 3600),
        misfire_grace_seconds=read.integer(p + "MISFIRE_GRACE_SECONDS", 3600, 0, 30 * day),
        max_attempts=read.integer(p + "MAX_ATTEMPTS", 10, 1, 1000),
        chunk_size=read.integer(p + "CHUNK_SIZE", 500, 1, 10_000),
        ledger_batch_size=read.integer(p + "LEDGER_BATCH_SIZE", 10_000, 1, 100_000),
        rate_per_second=read.number(p + "RATE_PER_SECOND", 0.0, 0, 100_000),
        smtp_timeout_seconds=read.number(p + "SMTP_TIMEOUT_SECONDS", 30.0, 0, 600, above_low=True),
        retry_base_seconds=retry_base,
        smtp_connections=read.integer(p + "SMTP_CONNECTIONS", 1, 1, 64),
        smtp_messages_per_connection=read.integer(p + "SMTP_MESSAGES_PER_CONNECTION", 0, 0, 1_000_000),
        social_webhook_url=webhook.geturl() if webhook else None,
        redis_prefix=read.text(p + "REDIS_PREFIX", "wavecast:", limit=100),
        social_webhook_secret=read.secret(p + "SOCIAL_WEBHOOK_SECRET"),
        retry_max_seconds=retry_max,
        visibility_timeout_seconds=visibility,
        smtp=smtp,
        allow_insecure_relay=read.flag(p + "ALLOW_INSECURE_RELAY"),
        editor_commits=read.flag(p + "EDITOR_COMMITS"),
        channels=_channel_settings(read),
        dkim=_dkim(read),
        bounces=_bounce_policy(read),
        campaign_dir=_campaign_dir(read),
        subscribe_per_address=read.integer(p + "SUBSCRIBE_PER_ADDRESS", 3, 1, 1000),
        subscribe_per_client=read.integer(p + "SUBSCRIBE_PER_CLIENT", 20, 1, 100_000),
        token=read.secret(p + "TOKEN"),
        token_file=Path(read.text(p + "TOKEN_FILE", "~/.config/wavecast/token", limit=4096)).expanduser(),
        session_idle_minutes=read.integer(p + "SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
        oidc=_oidc(read),
    )
    _unknown(read)
    _relay_is_safe(settings)
    return settings


@cache
def get_settings() -> Settings:
    """The process's settings, read and checked once."""
    return load_settings()
