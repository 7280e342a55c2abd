"""Synthetic demo contacts (`wavecast contacts generate N`): plausible, and nobody real.

First names and surnames are common names of each language community (Dutch, French, German
speakers in East Belgium, English-speaking expats in Brussels), paired at random. Addresses
use only reserved example domains (RFC 2606/6761: example.org, example.net, example.com and
names under the ``.example`` top-level domain); ``example.be`` is an ordinary, registrable
domain, so it is not used. Organisation names are invented.

Spread: women (tag ``women``) about half; ages for youth and seniors; organisations of kind
company (about a third of those founded in the last two years, so ``starters`` has members),
public, academic and nonprofit; every region; every language.

"No targeted audience" is made precise against the SmartNation example's audiences: women
{tag women}, youth {age 16-25}, seniors {age 65+}, companies {company}, starters {company
founded within 3 years}, public-sector {public} and researchers {academic}. About 1% of
contacts (drawn with probability 0.01) have no tags, an age of 30-60 and either no
organisation or a nonprofit one: they are in ``citizens`` only. Every other contact is
checked to be in at least one targeted audience. Ages are drawn relative to a reference date
(the campaign's first wave when the CLI knows the campaign, else today) with a margin, so
this holds for waves from two years before to four years after it.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from audiences.csv_rows import KNOWN, ContactRow
from audiences.normalise import email_hash
from audiences.synthetic_names import COMMUNITIES, Community
from audiences.upsert import BATCH_SIZE, CONTACT_COLUMNS, ContactWriter, count_contacts
from campaign.db import get_engine, utcnow

UNTARGETED_SHARE = 0.01
TARGETED_KINDS = ("company", "public", "academic")
SOURCE = "synthetic demo data"
CSV_COLUMNS = tuple(c for c in KNOWN if c != "unsubscribed_at")


@dataclass
class Person:
    email: str
    first_name: str
    language: str
    region: str
    birth_year: int | None
    tags: list[str] = field(default_factory=list)
    organisation_kind: str | None = None
    organisation_name: str | None = None
    organisation_founded: dt.date | None = None

    def fields(self, consent_at: dt.datetime) -> dict[str, object]:
        return {
            "first_name": self.first_name,
            "language": self.language,
            "region": self.region,
            "birth_year": self.birth_year,
            "organisation_kind": self.organisation_kind,
            "organisation_name": self.organisation_name,
            "organisation_founded": self.organisation_founded,
            "consent_source": SOURCE,
            "consent_at": consent_at,
            "unsubscribed_at": None,
        }


@cache
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


class Generator:
    """Draws people one at a time from a seeded random source, reproducibly."""

    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.weights = [c.share for c in COMMUNITIES]

    def _organisation(self, person: Person, community: Community, kind: str) -> None:
        rng = self.rng
        person.organisation_kind = kind
        person.organisation_name = community.organisation(rng, kind)
        year = self.today.year
        if kind == "company" and rng.random() < 0.35:  # starters
            first = self.today - dt.timedelta(days=730)
            person.organisation_founded = _day(rng, first, self.today)
        else:
            oldest = {"company": 1950, "public": 1830, "academic": 1834, "nonprofit": 1960}[kind]
            person.organisation_founded = _day(rng, dt.date(oldest, 1, 1), dt.date(year - 6, 12, 31))

    def person(self, number: int) -> Person:
        rng = self.rng
        community = rng.choices(COMMUNITIES, self.weights)[0]
        female = rng.random() < 0.5
        first = rng.choice(community.women if female else community.men)
        last = rng.choice(community.surnames)
        person = Person(
            email=f"{_ascii(first)}.{_ascii(last)}{number}@{rng.choice(community.domains)}",
            first_name=first,
            language=community.language,
            region=community.region(rng),
            birth_year=None,
        )
        year = self.today.year
        if rng.random() < UNTARGETED_SHARE:
            person.birth_year = year - rng.randint(30, 60)
            if rng.random() < 0.3:
                self._organisation(person, community, "nonprofit")
            return person
        if female:
            person.tags.append("women")
        age_group = rng.random()
        if age_group < 0.2:
            person.birth_year = year - rng.randint(18, 21)  # youth (16-25): margin -2/+4 years
        elif age_group < 0.4:
            person.birth_year = year - rng.randint(67, 90)
        elif rng.random() < 0.95:
            person.birth_year = year - rng.randint(30, 60)
        if rng.random() < (0.55 if age_group >= 0.4 else 0.1):
            kind = rng.choices(("company", "public", "academic", "nonprofit"), (50, 20, 15, 15))[0]
            self._organisation(person, community, kind)
        if rng.random() < 0.3:
            person.tags.append(rng.choice(("digital-skills", "cybersecurity", "e-government", "ai")))
        targeted = female or age_group < 0.4 or person.organisation_kind in TARGETED_KINDS
        if not targeted:
            self._organisation(person, community, rng.choices(TARGETED_KINDS, (60, 25, 15))[0])
        return person

    def people(self, n: int) -> Iterator[Person]:
        for number in range(1, n + 1):
            yield self.person(number)


@dataclass(frozen=True)
class Generated:
    created: int
    updated: int
    suppressed: int


def generate(
    n: int, seed: int = 1, today: dt.date | None = None, on_progress: Callable[[int], None] | None = None
) -> Generated:
    """Upsert n synthetic contacts into the database in batches (one transaction);
    `on_progress(count)` after each batch, for a progress bar."""
    people = Generator(seed, today or dt.date.today()).people(n)
    now = utcnow()
    written = suppressed = 0
    with get_engine().begin() as conn:
        before = count_contacts(conn)
        writer = ContactWriter(conn, CONTACT_COLUMNS, tags=True)
        batch: list[ContactRow] = []
        for person in people:
            batch.append(ContactRow(0, person.email, email_hash(person.email), person.fields(now), tuple(person.tags)))
            if len(batch) >= BATCH_SIZE:
                done, out = writer.write(batch)
                written, suppressed, batch = written + done, suppressed + out, []
                if on_progress is not None:
                    on_progress(written + suppressed)
        done, out = writer.write(batch)
        written, suppressed = written + done, suppressed + out
        if on_progress is not None:
            on_progress(written + suppressed)
        created = count_contacts(conn) - before
    return Generated(created, written - created, suppressed)


def write_csv(path: Path, n: int, seed: int = 1, today: dt.date | None = None) -> None:
    """Write n synthetic contacts as an importable CSV (for benchmarks and demos)."""
    consent = utcnow().replace(microsecond=0).isoformat()
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_COLUMNS)
        for p in Generator(seed, today or dt.date.today()).people(n):
            writer.writerow(
                [
                    p.email,
                    p.first_name,
                    p.language,
                    ";".join(p.tags),
                    p.birth_year or "",
                    p.region,
                    p.organisation_kind or "",
                    p.organisation_name or "",
                    p.organisation_founded.isoformat() if p.organisation_founded else "",
                    SOURCE,
                    consent,
                ]
            )
