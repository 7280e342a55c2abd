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


# A campaign's name quoted in running text ("the news of “Digital. You, us, all of us!” in your
# mailbox"): a name that ends in "!" would otherwise run into the sentence around it.
QUOTES = {"nl": ("‘", "’"), "fr": ("« ", " »"), "de": ("„", "“"), "en": ("“", "”")}


def campaign_texts(spec: Campaign, lang: str, register: str = "") -> dict[str, str]:
    """``people_texts`` with the campaign filled in: {name} (quoted), {sender}, {hours} (how long a
    confirmation link works); `register` defaults to the campaign's for the language."""
    info = spec.campaign
    opening, closing = QUOTES.get(lang, ("“", "”"))
    fill = {
        "{name}": opening + (info.name.get(lang) or next(iter(info.name.values()))) + closing,
        "{sender}": info.sender.name_in(lang, dict(info.fallbacks)),
        "{hours}": str(info.subscribe.confirm_hours if info.subscribe else 0),
    }
    found = {}
    for key, text in people_texts(lang, register or campaign_register(spec, lang)).items():
        for mark, value in fill.items():
            text = text.replace(mark, value)
        found[key] = typeset(lang, text)
    return found
