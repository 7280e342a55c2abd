"""The words around a link that a reader sees in their own language.

An initiative's page may exist in one language only: a reader of another language is told
which language the page is in ("(in Dutch)", "(en néerlandais)") rather than landing on it
unwarned. And Instagram makes no link in a caption clickable, so a caption ends by pointing
to the link in the profile ("link in bio") instead of with a URL nobody can follow.
"""

from __future__ import annotations

from campaign.model import CampaignInfo

# "(in <page language>)" as a reader of each language reads it.
_IN_LANGUAGE: dict[str, dict[str, str]] = {
    "nl": {"fr": "(in het Frans)", "de": "(in het Duits)", "en": "(in het Engels)"},
    "fr": {"nl": "(en néerlandais)", "de": "(en allemand)", "en": "(en anglais)"},
    "de": {"nl": "(auf Niederländisch)", "fr": "(auf Französisch)", "en": "(auf Englisch)"},
    "en": {"nl": "(in Dutch)", "fr": "(in French)", "de": "(in German)"},
}

LINK_IN_BIO: dict[str, str] = {
    "nl": "Meer weten? Volg de link in onze bio.",
    "fr": "Envie d'en savoir plus ? Suivez le lien dans notre bio.",
    "de": "Mehr erfahren? Folgen Sie dem Link in unserer Bio.",
    "en": "Want to know more? Follow the link in our bio.",
}
_LINK_IN_BIO_ANY = "Link in bio."


def page_language_note(reader: str, page: str | None) -> str:
    """How a reader of `reader` is told a linked page is in `page`; empty when it is theirs."""
    if page is None or page == reader:
        return ""
    return _IN_LANGUAGE.get(reader, {}).get(page, f"({page})")


def link_in_bio(info: CampaignInfo, lang: str) -> str:
    """The end of an Instagram caption in lang: the campaign's own wording, else the default."""
    return info.link_in_bio.get(lang) or LINK_IN_BIO.get(lang, _LINK_IN_BIO_ANY)
