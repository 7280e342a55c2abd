"""Name material for synthetic contacts, per language community. Invented combinations only.

First names and surnames are among the most common in each community, so a random pairing
names nobody in particular; organisation names are made up from place-like words.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Community:
    language: str
    share: float
    regions: tuple[tuple[str, int], ...]
    women: tuple[str, ...]
    men: tuple[str, ...]
    surnames: tuple[str, ...]
    domains: tuple[str, ...]
    words: tuple[str, ...]
    trades: tuple[str, ...]
    forms: tuple[str, ...]
    public: str
    academic: str
    nonprofit: str

    def region(self, rng: random.Random) -> str:
        names, weights = zip(*self.regions, strict=True)
        return rng.choices(names, weights)[0]

    def organisation(self, rng: random.Random, kind: str) -> str:
        word = rng.choice(self.words)
        if kind == "company":
            return f"{word} {rng.choice(self.trades)} {rng.choice(self.forms)}"
        template = {"public": self.public, "academic": self.academic}.get(kind, self.nonprofit)
        return template.format(word)


COMMUNITIES: tuple[Community, ...] = (
    Community(
        language="nl",
        share=55,
        regions=(("flanders", 85), ("brussels", 15)),
        women=(
            "Emma",
            "Olivia",
            "Louise",
            "Mila",
            "Noor",
            "Lotte",
            "Els",
            "An",
            "Sofie",
            "Katrien",
            "Hanne",
            "Fien",
            "Lien",
            "Griet",
            "Jana",
            "Marie",
        ),
        men=(
            "Noah",
            "Lucas",
            "Liam",
            "Wout",
            "Jan",
            "Pieter",
            "Bart",
            "Koen",
            "Tom",
            "Stijn",
            "Jef",
            "Lars",
            "Arne",
            "Wim",
            "Dirk",
            "Seppe",
        ),
        surnames=(
            "Peeters",
            "Janssens",
            "Maes",
            "Jacobs",
            "Mertens",
            "Willems",
            "Claes",
            "Goossens",
            "Wouters",
            "De Smet",
            "Vermeulen",
            "Van den Broeck",
            "Hermans",
            "Aerts",
            "De Backer",
            "Verstraete",
        ),
        domains=("example.org", "example.net", "vlaanderen.example", "post.example"),
        words=("Schelde", "Kempen", "Leie", "Dijle", "Brabo", "Polder", "Zonnebloem", "Demer"),
        trades=("Data", "Digitaal", "Software", "Labs", "Logistiek", "Media", "Bouw"),
        forms=("BV", "NV", "CommV"),
        public="Gemeentebestuur {}dal",
        academic="Hogeschool {}",
        nonprofit="{} Samen vzw",
    ),
    Community(
        language="fr",
        share=32,
        regions=(("wallonia", 75), ("brussels", 25)),
        women=(
            "Louise",
            "Camille",
            "Manon",
            "Chloé",
            "Léa",
            "Juliette",
            "Nathalie",
            "Isabelle",
            "Amélie",
            "Élise",
            "Margaux",
            "Céline",
        ),
        men=(
            "Hugo",
            "Louis",
            "Nathan",
            "Julien",
            "Antoine",
            "Maxime",
            "Nicolas",
            "Olivier",
            "Thomas",
            "Arthur",
            "Mathis",
            "Benoît",
        ),
        surnames=(
            "Dubois",
            "Lambert",
            "Dupont",
            "Martin",
            "Simon",
            "Laurent",
            "Leclercq",
            "Renard",
            "Lejeune",
            "Henry",
            "Lefèbvre",
            "Collard",
            "Denis",
            "Leroy",
            "Gilson",
            "Fontaine",
        ),
        domains=("example.org", "example.com", "wallonie.example", "bruxelles.example"),
        words=("Meuse", "Sambre", "Ardenne", "Hesbaye", "Condroz", "Lesse", "Semois", "Famenne"),
        trades=("Numérique", "Conseil", "Logiciels", "Solutions", "Services", "Médias"),
        forms=("SRL", "SA", "SC"),
        public="Administration communale de {}ville",
        academic="Haute École {}",
        nonprofit="{} Ensemble asbl",
    ),
    Community(
        language="de",
        share=5,
        regions=(("east-belgium", 100),),
        women=("Lena", "Anna", "Leonie", "Lea", "Marie", "Sarah", "Julia", "Laura", "Hannah", "Sophie"),
        men=("Lukas", "Jonas", "Tim", "Luca", "Leon", "Elias", "Niklas", "Jan", "Paul", "Felix"),
        surnames=(
            "Schmitz",
            "Müller",
            "Lentz",
            "Kessler",
            "Heinen",
            "Jost",
            "Cremer",
            "Thissen",
            "Kohnen",
            "Margraff",
            "Fickers",
            "Mreyen",
        ),
        domains=("example.org", "ostbelgien.example"),
        words=("Eifel", "Venn", "Weser", "Our", "Amel", "Hertogen"),
        trades=("Digital", "Technik", "Software", "Service"),
        forms=("GmbH", "AG"),
        public="Gemeindeverwaltung {}tal",
        academic="Hochschule {}",
        nonprofit="{} Gemeinsam VoG",
    ),
    Community(
        language="en",
        share=8,
        regions=(("brussels", 70), ("flanders", 20), ("wallonia", 10)),
        women=("Olivia", "Emily", "Grace", "Sophie", "Charlotte", "Amelia", "Hannah", "Ella"),
        men=("James", "Thomas", "Oliver", "Jack", "Harry", "William", "Daniel", "Samuel"),
        surnames=("Smith", "Brown", "Taylor", "Walsh", "Murphy", "Wilson", "Evans", "O'Brien", "Kelly", "Hughes"),
        domains=("example.com", "example.net", "expat.example"),
        words=("Harbour", "Northgate", "Bluebell", "Kingsway", "Riverside", "Elmwood"),
        trades=("Analytics", "Consulting", "Software", "Partners"),
        forms=("Ltd", "SRL"),
        public="{} Liaison Office",
        academic="{} Institute of Technology",
        nonprofit="{} Network",
    ),
)
