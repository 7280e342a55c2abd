"""Error pages anyone on the internet may see: small HTML in the visitor's language, no internals.

The unsubscribe page, the click redirect and the campaign's images are public: a person who
got an e-mail reaches them, and so does anyone who guesses an address. Whatever goes wrong
there (an unknown page, a mangled link, a campaign with errors, a fault of ours), the answer
says only what happened in general terms, in nl, fr, de or en, and never shows a file name,
a campaign problem or a traceback. The API under /api/ keeps JSON for its scripts.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from frontends.web.accept_language import preferred

LANGS = ("nl", "fr", "de", "en")
DEFAULT_LANG = "en"
TEXTS: dict[int, dict[str, tuple[str, str]]] = {
    400: {
        "nl": ("Ongeldige aanvraag", "De aanvraag kon niet worden verwerkt. Controleer de link en probeer opnieuw."),
        "fr": ("Requête non valable", "La requête n’a pas pu être traitée. Vérifiez le lien et réessayez."),
        "de": (
            "Ungültige Anfrage",
            "Die Anfrage konnte nicht verarbeitet werden. Prüfen Sie den Link und versuchen Sie es erneut.",
        ),
        "en": ("Invalid request", "The request could not be processed. Check the link and try again."),
    },
    404: {
        "nl": ("Pagina niet gevonden", "Deze pagina bestaat niet of is verplaatst."),
        "fr": ("Page introuvable", "Cette page n’existe pas ou a été déplacée."),
        "de": ("Seite nicht gefunden", "Diese Seite gibt es nicht oder sie wurde verschoben."),
        "en": ("Page not found", "This page does not exist or has moved."),
    },
    405: {
        "nl": ("Niet mogelijk", "Deze pagina aanvaardt dit soort aanvraag niet."),
        "fr": ("Action impossible", "Cette page n’accepte pas ce type de requête."),
        "de": ("Nicht möglich", "Diese Seite nimmt diese Art von Anfrage nicht an."),
        "en": ("Not possible", "This page does not accept this kind of request."),
    },
    500: {
        "nl": ("Er ging iets mis", "Er ging aan onze kant iets mis. Probeer het later opnieuw."),
        "fr": ("Une erreur est survenue", "Un problème est survenu de notre côté. Réessayez plus tard."),
        "de": (
            "Es ist ein Fehler aufgetreten",
            "Bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es später erneut.",
        ),
        "en": ("Something went wrong", "Something went wrong on our side. Please try again later."),
    },
    503: {
        "nl": ("Tijdelijk niet beschikbaar", "Deze pagina is tijdelijk niet beschikbaar. Probeer het later opnieuw."),
        "fr": ("Temporairement indisponible", "Cette page est temporairement indisponible. Réessayez plus tard."),
        "de": (
            "Vorübergehend nicht verfügbar",
            "Diese Seite ist vorübergehend nicht verfügbar. Bitte versuchen Sie es später erneut.",
        ),
        "en": ("Temporarily unavailable", "This page is temporarily unavailable. Please try again later."),
    },
}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a;background:#fff;"
    "max-width:36rem;margin:2rem auto;padding:0 1rem}"
)


def reader_language(request: Request) -> str:
    """The language the visitor's browser prefers most among ours (q-values honoured), else English."""
    return preferred(request.headers.get("accept-language"), LANGS) or DEFAULT_LANG


def _texts(status: int) -> dict[str, tuple[str, str]]:
    if status in TEXTS:
        return TEXTS[status]
    return TEXTS[500] if status >= 500 else TEXTS[400]


def public_error(request: Request, status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The small page for an error status, in the visitor's language; nothing about the cause."""
    lang = reader_language(request)
    title, message = _texts(status)[lang]
    document = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers={**HEADERS, "Content-Language": lang, **(headers or {})})


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    extra = {k: v for k, v in (exc.headers or {}).items() if k.lower() in ("allow", "www-authenticate")}
    if _is_api(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return public_error(request, exc.status_code, extra)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_api(request):
        # The fields that failed, without the values sent (they may be anything).
        errors: list[dict[str, Any]] = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)
    return public_error(request, 422)


async def _internal_error(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "internal error"}, status_code=500, headers={"Cache-Control": "no-store"})
    return public_error(request, 500)


def install(app: FastAPI) -> None:
    """Answer 4xx and 5xx with these pages on every route of the app (JSON under /api/)."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _internal_error)
