"""The django-post-office side of the peer benchmark. It runs in the peer's own virtual environment
(bench/post_office_requirements.txt), never in wavecast's, and imports nothing from wavecast.

Django is configured in code: PostgreSQL (the database bench/post_office_comparison.py created for
it), the SMTP backend pointed at the benchmark's sink, post_office's own settings left at their
defaults (100 mails per batch, 5 sending threads per process, every delivery logged) except that
each mail gets its Message-ID when queued, with a fixed domain (MESSAGE_ID_ENABLED,
MESSAGE_ID_FQDN), so that no sending process waits on a DNS lookup of the host name.

    <peer python> bench/post_office_peer.py migrate --database NAME
    <peer python> bench/post_office_peer.py send --database NAME --smtp HOST:PORT --content FILE \
        --contacts N --processes P --lockfile PATH
    <peer python> bench/post_office_peer.py size --database NAME --smtp HOST:PORT --content FILE

`send` prints one JSON line: when the clock started (before the first mail was queued), how long
queueing took, and what `send_queued` reported. The content file holds the wave's subject, text and
HTML per language, already rendered, with the personal fields left as placeholders (NAME_MARK,
LINK_MARK below). The peer turns each language into a post_office `EmailTemplate` whose
placeholders are template variables (before the clock starts); queueing a mail renders its
template with the contact's name and unsubscribe token, as `mail.send_many(..., template=...,
context=...)` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

NAME_MARK = "@@FIRST_NAME@@"
LINK_MARK = "@@UNSUBSCRIBE_TOKEN@@"
QUEUE_BATCH = 1_000  # mails per send_many() call: each call builds its Email rows in memory


def configure(database: str, smtp: str = "127.0.0.1:25", host: str = "127.0.0.1", port: int = 5432) -> None:
    import django
    from django.conf import settings

    smtp_host, _, smtp_port = smtp.rpartition(":")
    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        SECRET_KEY="bench-peer",  # noqa: S106 - nothing is signed
        INSTALLED_APPS=["post_office"],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": database,
                "USER": "postgres",
                "HOST": host,
                "PORT": str(port),
            }
        },
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=smtp_host,
        EMAIL_PORT=int(smtp_port),
        DEFAULT_FROM_EMAIL="newsletter@smartnation.example.org",
        POST_OFFICE={"MESSAGE_ID_ENABLED": True, "MESSAGE_ID_FQDN": "smartnation.example.org"},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        LOGGING_CONFIG=None,
    )
    django.setup()


def templates(content: dict[str, Any]) -> dict[str, Any]:
    """One post_office EmailTemplate per language, made afresh."""
    from post_office.models import EmailTemplate

    def variables(text: str) -> str:
        return text.replace(NAME_MARK, "{{ first_name }}").replace(LINK_MARK, "{{ token }}")

    EmailTemplate.objects.all().delete()
    return {
        lang: EmailTemplate.objects.create(
            name=f"launch-{lang}",
            subject=part["subject"],
            content=variables(part["text"]),
            html_content=variables(part["html"]),
        )
        for lang, part in content["parts"].items()
    }


def mails(content: dict[str, Any], made: dict[str, Any], first: int, count: int) -> list[dict[str, Any]]:
    """The send_many() arguments for contacts person<first>..: the language's template, and the
    contact's fields as its context."""
    languages = content["languages"]
    return [
        {
            "recipients": [f"person{i}@example.org"],
            "sender": content["sender"],
            "template": made[languages[i % len(languages)]],
            "context": {"first_name": f"Person{i}", "token": f"t{i}"},
            "headers": {"List-Unsubscribe": f"<{content['unsubscribe_base']}t{i}>"},
        }
        for i in range(first, first + count)
    ]


def send(content: dict[str, Any], contacts: int, processes: int, lockfile: str) -> dict[str, Any]:
    from post_office import mail
    from post_office.models import Email, Log

    Log.objects.all().delete()
    Email.objects.all().delete()
    made = templates(content)
    started = time.time()
    for first in range(0, contacts, QUEUE_BATCH):
        mail.send_many(mails(content, made, first, min(QUEUE_BATCH, contacts - first)))
    queued = time.time()
    mail.send_queued_mail_until_done(lockfile, processes)
    return {
        "started": started,
        "queue_seconds": queued - started,
        "send_seconds": time.time() - queued,
        "sent": Email.objects.filter(status=0).count(),
        "not_sent": Email.objects.exclude(status=0).count(),
    }


def size(content: dict[str, Any]) -> int:
    """Bytes of the first contact's message as the SMTP backend sends it."""
    from post_office import mail

    email = mail.send(**mails(content, templates(content), 0, 1)[0])
    size = len(email.prepare_email_message().message().as_bytes(linesep="\r\n"))
    email.delete()
    return size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["migrate", "send", "size"])
    parser.add_argument("--database", required=True)
    parser.add_argument("--smtp", default="127.0.0.1:25")
    parser.add_argument("--content")
    parser.add_argument("--contacts", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--lockfile", default="/tmp/wavecast-bench-post-office")
    args = parser.parse_args(argv)
    configure(args.database, args.smtp)
    if args.command == "migrate":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(json.dumps({"migrated": args.database}))
        return
    with open(args.content, encoding="utf-8") as handle:
        content = json.load(handle)
    if args.command == "size":
        print(json.dumps({"bytes": size(content)}))
    else:
        print(json.dumps(send(content, args.contacts, args.processes, args.lockfile)))


if __name__ == "__main__":
    main(sys.argv[1:])
