"""The texts of the public pages people use and of the confirmation e-mail, per language and
register (templates/people/strings.yaml), typeset like the newsletter's layout strings."""

from __future__ import annotations

from pathlib import Path

from campaign.layout_strings import REGISTERS, pick, shipped, typeset
from campaign.model import Campaign

PEOPLE_FILE = Path(__file__).resolve().parent.parent / "templates" / "people" / "strings.yaml"


def campaign_register(spec: Campaign, lang: str) -> str:
    """How the campaign addresses readers in `lang` when no audience is known (the subscribe form)."""
    return spec.campaign.register_.get(lang) or REGISTERS.get(lang, ("",))[0]


def known_register(lang: str, given: str) -> str:
    """`given` when the language has that pronoun (a link's ``?register=``), else the formal one."""
    pronouns = REGISTERS.get(lang, ("",))
    return given if given in pronouns else pronouns[0]


def people_texts(lang: str, register: str = "") -> dict[str, str]:
    """Every text in `lang` (English where the file lacks the language) and `register`, typeset."""
    register = known_register(lang, register)
    found = {}
    for key, texts in shipped(PEOPLE_FILE).items():
        text = texts.get(lang) or texts["en"]
        found[key] = typeset(lang, pick(text, lang, register))
    return found
