"""Single sign-on with the organisation's OpenID Connect provider (authorization code + PKCE).

`/login/oidc` sends the browser to the provider with a fresh state, nonce and PKCE verifier,
kept in a signed cookie for ten minutes; `/login/oidc/callback` checks the state, trades the
code for tokens (client secret, verifier), verifies the ID token's signature (the provider's
published keys), issuer, audience, expiry and nonce, and signs the account in. The provider
vouches for who the person is; wavecast's own accounts say what they may do."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadData, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool

from accounts import signin
from accounts.roles import NotSignedIn
from campaign.db import session_scope
from campaign.errors import WavecastError
from campaign.phrase import Phrase
from campaign.settings import OidcProvider, get_settings
from frontends.web.i18n import N_
from frontends.web.pages import FriendlyRoute
from frontends.web.security import start_session
from frontends.web.signin import after_sign_in, local_path

router = APIRouter(route_class=FriendlyRoute)
FLOW_COOKIE = "wavecast_oidc"
FLOW_SECONDS = 600
TIMEOUT = 10.0
DISCOVERY_SECONDS = 3600
REFUSED = N_("single sign-on did not sign you in: try again, or ask an admin whether you have an account")


class SignOnUnavailable(WavecastError):
    http_status = 503
    title = N_("Single sign-on unavailable")


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str
    userinfo: str | None
    fetched: float


_discovered: dict[str, Endpoints] = {}


def endpoints(provider: OidcProvider) -> Endpoints:
    """The provider's discovery document, read once an hour."""
    cached = _discovered.get(provider.issuer)
    if cached is not None and time.monotonic() - cached.fetched < DISCOVERY_SECONDS:
        return cached
    try:
        document = httpx.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()
        found = Endpoints(
            document["authorization_endpoint"],
            document["token_endpoint"],
            document["jwks_uri"],
            document.get("userinfo_endpoint"),
            time.monotonic(),
        )
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise SignOnUnavailable(
            Phrase(
                "the sign-on provider %(issuer)s did not answer: %(error)s",
                issuer=provider.issuer,
                error=type(exc).__name__,
            )
        ) from None
    if document.get("issuer") != provider.issuer:
        raise SignOnUnavailable(
            Phrase(
                "the sign-on provider calls itself %(called)s, not %(issuer)s",
                called=repr(document.get("issuer")),
                issuer=provider.issuer,
            )
        )
    _discovered[provider.issuer] = found
    return found


def _provider() -> OidcProvider:
    provider = get_settings().oidc
    if provider is None:
        raise NotSignedIn(N_("single sign-on is not set up here (WAVECAST_OIDC_ISSUER): sign in with a password"))
    return provider


def _flows() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="wavecast.oidc")


def _callback(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


@router.get("/login/oidc", summary="Sign in with the organisation's single sign-on")
async def oidc_start(request: Request, next: str = "/") -> Response:
    provider = _provider()
    found = await run_in_threadpool(endpoints, provider)
    flow = {"state": generate_token(32), "nonce": generate_token(32), "verifier": generate_token(64)}
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": _callback(request),
        "scope": "openid email",
        "state": flow["state"],
        "nonce": flow["nonce"],
        "code_challenge": create_s256_code_challenge(flow["verifier"]),
        "code_challenge_method": "S256",
    }
    response = RedirectResponse(f"{found.authorization}?{urlencode(query)}", status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        _flows().dumps({**flow, "next": local_path(next)}),
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="lax",  # it must come back with the provider's cross-site redirect
        secure=request.url.scheme == "https",
        path="/login/oidc",
    )
    return response


def _flow(request: Request) -> dict[str, str]:
    try:
        flow = _flows().loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_SECONDS)
    except BadData:
        raise NotSignedIn(N_("the sign-on took too long or came from elsewhere: start again")) from None
    if not isinstance(flow, dict) or request.query_params.get("state") != flow.get("state"):
        raise NotSignedIn(N_("the sign-on answer does not belong to this browser: start again"))
    return flow


def _claims(provider: OidcProvider, found: Endpoints, code: str, request: Request, flow: dict[str, str]) -> Any:
    try:
        answer = httpx.post(
            found.token,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": _callback(request),
                "code_verifier": flow["verifier"],
            },
            auth=(provider.client_id, provider.client_secret),
            timeout=TIMEOUT,
        )
        tokens = answer.json() if answer.status_code == 200 else {}
        id_token = tokens.get("id_token")
        keys = KeySet.import_key_set(httpx.get(found.jwks, timeout=TIMEOUT).json())
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise SignOnUnavailable(
            Phrase("the sign-on provider did not complete the sign-in: %(error)s", error=type(exc).__name__)
        ) from None
    if not isinstance(id_token, str):
        raise NotSignedIn(REFUSED)
    try:
        token = jwt.decode(id_token, keys)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.client_id},
            nonce={"essential": True, "value": flow["nonce"]},
            sub={"essential": True},
            exp={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError):
        raise NotSignedIn(REFUSED) from None
    claims = dict(token.claims)
    if "email" not in claims and found.userinfo and tokens.get("access_token"):
        claims |= _userinfo(found.userinfo, str(tokens["access_token"]), str(claims["sub"]))
    return claims


def _userinfo(address: str, access_token: str, subject: str) -> dict[str, Any]:
    """The address claims, when the provider keeps them out of the ID token (as OIDC Core 5.4
    asks when an access token is issued); only for the same subject the ID token names."""
    try:
        info = httpx.get(address, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SignOnUnavailable(
            Phrase("the sign-on provider did not say who you are: %(error)s", error=type(exc).__name__)
        ) from None
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise NotSignedIn(REFUSED)
    return {k: info[k] for k in ("email", "email_verified") if k in info}


def _sign_in(request: Request, code: str, flow: dict[str, str]) -> Any:
    provider = _provider()
    claims = _claims(provider, endpoints(provider), code, request, flow)
    email, verified = str(claims.get("email") or ""), claims.get("email_verified") is True
    with session_scope() as session:
        actor = signin.with_single_sign_on(session, provider.issuer, str(claims["sub"]), email, verified)
    if actor is None:
        raise NotSignedIn(REFUSED)
    return actor


@router.get("/login/oidc/callback", name="oidc_callback", summary="Where the sign-on provider sends the browser back")
async def oidc_callback(request: Request, code: str = "", error: str = "") -> Response:
    flow = _flow(request)
    if error or not code:
        raise NotSignedIn(Phrase("the sign-on provider refused: %(error)s", error=error[:100] or Phrase("no code")))
    actor = await run_in_threadpool(_sign_in, request, code, flow)
    response = RedirectResponse(after_sign_in(flow.get("next", "/")), status_code=303)
    await run_in_threadpool(start_session, request, response, actor)
    response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
    return response
