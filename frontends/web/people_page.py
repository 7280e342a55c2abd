"""The frame of every page people see (subscribe, confirm, preferences, unsubscribe), branded from
campaign.yaml: the campaign's name, its sender, colours and logo. No script, no request to
another site; readable at 320 px; form controls with visible labels and focus.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping

from fastapi.responses import HTMLResponse

from campaign.model import Branding, Campaign

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}


def _style(brand: Branding) -> str:
    p, t, b = brand.primary, brand.text, brand.background
    return (
        f"body{{font-family:system-ui,sans-serif;line-height:1.5;color:{t};background:{b};margin:0;"
        f"border-top:6px solid {p}}}"
        "header{padding-top:1rem}header p{margin:0;font-weight:700}"
        "header img{display:block;height:40px;width:auto;max-width:100%;margin-bottom:.5rem}"
        "main,footer,header{max-width:36rem;margin:0 auto;padding:0 1rem}"
        "footer{font-size:.9rem;margin-top:2rem;padding-bottom:2rem}"
        f"a{{color:{p}}}"
        "label{display:block;font-weight:600;margin-top:1rem}"
        "input[type=email],input[type=text],input[type=date],select{font:inherit;width:100%;"
        f"box-sizing:border-box;padding:.5rem;border:2px solid {t};background:{b};color:{t}}}"
        "fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600}"
        "fieldset label{font-weight:400;margin-top:.4rem}"
        f"button{{font:inherit;padding:.6rem 1.2rem;margin-top:1rem;border:2px solid {p};background:{p};"
        f"color:{b};cursor:pointer;max-width:100%}}"
        f"button.quiet{{background:{b};color:{p}}}"
        f"button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible{{outline:3px solid {t};"
        "outline-offset:2px}"
        ".trap{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}"
        "section{border-top:1px solid #767676;margin-top:1.5rem}"
        "nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1rem}"
        ".note{border-left:4px solid currentColor;padding-left:.8rem}"
        "pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.8rem;border:1px solid #767676;padding:.5rem}"
    )


def language_select(spec: Campaign, lang: str, label: str) -> str:
    """A labelled <select name="language"> of the campaign's languages, `lang` chosen."""
    options = "".join(
        f'<option value="{code}"{" selected" if code == lang else ""}>'
        f"{html.escape(LANGUAGE_NAMES.get(code, code))}</option>"
        for code in spec.campaign.languages
    )
    return f'<label for="language">{html.escape(label)}</label><select id="language" name="language">{options}</select>'


def interest_boxes(spec: Campaign, lang: str, legend: str, chosen: Collection[str] = ()) -> str:
    """A fieldset of checkboxes ``interests``, one per interest of campaign.yaml ('' without any)."""
    boxes = "".join(
        f'<label><input type="checkbox" name="interests" value="{i.id}"{" checked" if i.id in chosen else ""}> '
        f"{html.escape(i.label.get(lang) or next(iter(i.label.values())))}</label>"
        for i in spec.interests
    )
    return f"<fieldset><legend>{html.escape(legend)}</legend>{boxes}</fieldset>" if boxes else ""


def language_switch(spec: Campaign, lang: str, label: str, path: str) -> str:
    """Links to the same page in the campaign's other languages (no script needed)."""
    links = "".join(
        f'<li><a href="{html.escape(path)}?lang={other}" lang="{other}" hreflang="{other}">'
        f"{html.escape(LANGUAGE_NAMES.get(other, other))}</a></li>"
        for other in spec.campaign.languages
        if other != lang
    )
    return f'<nav aria-label="{html.escape(label)}"><ul>{links}</ul></nav>'


def document(
    spec: Campaign,
    lang: str,
    title: str,
    body: str,
    texts: Mapping[str, str],
    *,
    status: int = 200,
    switch: str = "",
) -> HTMLResponse:
    """A whole page: the brand's header, `body` (HTML, already escaped) in <main>, the sender below."""
    info = spec.campaign
    brand = info.branding or Branding()
    name = html.escape(info.name.get(lang) or next(iter(info.name.values())))
    logo = ""
    if brand.logo:
        alt = html.escape(brand.logo_alt.get(lang) or next(iter(brand.logo_alt.values()), ""))
        logo = f'<img src="/assets/{info.id}/{html.escape(brand.logo)}" alt="{alt}" height="40">'
    sender = html.escape(info.sender.name_in(lang, dict(info.fallbacks)))
    document = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)} – {name}</title><style>{_style(brand)}</style></head>"
        f"<body><header>{logo}<p>{name}</p></header>"
        f"<main><h1>{html.escape(title)}</h1>{body}</main>"
        f"<footer>{switch}<p>{html.escape(texts['sent_by'])} {sender}</p></footer></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)
