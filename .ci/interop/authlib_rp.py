"""Clavex against a real relying-party library: Authlib (Python, requests integration).

Authlib's ``OAuth2Session`` builds the authorization URL with PKCE (S256), exchanges the code
(parsing ``code`` and checking ``state`` in the authorization response) and refreshes. The ID
token's signature is checked against the JWKS with joserfc (what Authlib's own OpenID clients
use), restricted to the org's algorithm, and its claims with ``authlib.oidc.core.CodeIDToken``
(iss, aud, exp, iat, nonce, azp, at_hash). The discovery document is checked with Authlib's
``OpenIDProviderMetadata`` validators. The sign-in form is driven over plain HTTP as a browser
would: fetch the page, keep its cookies, post the hidden inputs with the credentials.

Configuration (environment): RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_AUTH_METHOD
(client_secret_basic | client_secret_post), RP_REDIRECT_URI, RP_USERNAME, RP_PASSWORD,
RP_EXPECT_GROUPS (comma-separated, may be empty), RP_EXPECT_ALG (RS256 | ES256 | EdDSA).
Prints each check; exits non-zero on the first failure.
"""

import base64
import hashlib
import json
import os
import secrets
import sys
import traceback
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc import discovery as oidc_discovery
from authlib.oidc import rpinitiated
from authlib.oidc.core import CodeIDToken, IDToken
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

TIMEOUT = 15


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise SystemExit(f"{name} is not set")
    return value


ISSUER = env("RP_ISSUER")
CLIENT_ID = env("RP_CLIENT_ID")
CLIENT_SECRET = env("RP_CLIENT_SECRET")
AUTH_METHOD = env("RP_AUTH_METHOD", "client_secret_basic")
REDIRECT_URI = env("RP_REDIRECT_URI")
USERNAME = env("RP_USERNAME")
PASSWORD = env("RP_PASSWORD")
GROUPS = [g for g in env("RP_EXPECT_GROUPS", "").split(",") if g]
ALG = env("RP_EXPECT_ALG", "RS256")
ORG = urlsplit(ISSUER).path.rstrip("/").rsplit("/", 1)[-1]
TAG = f"[authlib {ORG} {ALG} {AUTH_METHOD}]"

passed = 0


class CheckFailed(Exception):
    pass


def check(condition, what, detail=None):
    global passed
    if not condition:
        raise CheckFailed(what + ("" if detail is None else f": {detail!r}"))
    passed += 1
    print(f"{TAG} ok: {what}", flush=True)


def at_hash(access_token, alg):
    """at_hash per OIDC Core 3.1.3.6, computed independently of Authlib."""
    digest = (hashlib.sha512 if alg == "EdDSA" else getattr(hashlib, f"sha{alg[2:]}"))(
        access_token.encode("ascii")
    ).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


class FormParser(HTMLParser):
    """Collects the first form's attributes and every input's attributes."""

    def __init__(self):
        super().__init__()
        self.form = None
        self.inputs = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form" and self.form is None:
            self.form = attrs
        elif tag == "input":
            self.inputs.append(attrs)


def sign_in(authorization_url):
    """authorize → 302 to the sign-in page → POST the form → 303 to the redirect URI."""
    browser = requests.Session()
    r = browser.get(authorization_url, allow_redirects=False, timeout=TIMEOUT)
    check(r.status_code == 302, "authorize redirects to the sign-in page", r.status_code)
    login_url = urljoin(authorization_url, r.headers["Location"])
    check(urlsplit(login_url).path == f"/{ORG}/login", "the sign-in page is P/o/login", login_url)

    r = browser.get(login_url, allow_redirects=False, timeout=TIMEOUT)
    check(r.status_code == 200, "the sign-in page loads", r.status_code)
    parser = FormParser()
    parser.feed(r.text)
    check(parser.form is not None, "the page has a form")
    names = {i.get("name") for i in parser.inputs}
    check({"username", "password"} <= names, "the form has username and password inputs")
    fields = {
        i["name"]: i.get("value", "")
        for i in parser.inputs
        if i.get("type", "").lower() == "hidden" and i.get("name")
    }
    check({"csrf", "request"} <= fields.keys(), "the form carries its hidden csrf and request inputs")
    fields.update(username=USERNAME, password=PASSWORD)
    action = urljoin(login_url, parser.form.get("action") or login_url)
    r = browser.post(action, data=fields, allow_redirects=False, timeout=TIMEOUT)
    check(r.status_code == 303, "the credentials are accepted (303)", r.status_code)
    back = urljoin(action, r.headers["Location"])
    check(back.startswith(REDIRECT_URI + "?"), "the provider redirects to the registered redirect URI", back)
    return back


def verify_id_token(id_token, jwks, nonce, access_token, claims_cls=CodeIDToken):
    """Signature against the JWKS (only ALG allowed), then the claims with Authlib's classes."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=[ALG])
    check(token.header.get("alg") == ALG, f"ID token: signature verified against the JWKS ({ALG})")
    claims = claims_cls(
        token.claims,
        token.header,
        {"iss": {"essential": True, "value": ISSUER}, "aud": {"essential": True, "value": CLIENT_ID}},
        {"nonce": nonce, "client_id": CLIENT_ID, "access_token": access_token},
    )
    claims.validate(leeway=60)
    return claims


def main():
    http = requests.Session()
    r = http.get(f"{ISSUER}/.well-known/openid-configuration", timeout=TIMEOUT)
    check(r.status_code == 200, "discovery document served")
    meta = r.json()
    check(meta.get("issuer") == ISSUER, "discovery: issuer is exactly P/o", meta.get("issuer"))

    # Authlib's validators for OIDC Discovery 1.0 / RFC 8414 and RP-Initiated Logout metadata.
    skipped = []
    for cls in (oidc_discovery.OpenIDProviderMetadata, rpinitiated.OpenIDProviderMetadata):
        document = cls(meta)
        for key in cls.REGISTRY_KEYS:
            if key == "id_token_signing_alg_values_supported" and ALG != "RS256":
                # Discovery 1.0 §3 asks every OP to list RS256; an org that signs only with
                # another algorithm lists exactly what it supports instead.
                skipped.append(key)
                continue
            getattr(document, f"validate_{key}")()
    check(True, "discovery: Authlib's metadata validators accept the document"
          + (f" (skipped: {', '.join(skipped)})" if skipped else ""))
    check(ALG in meta["id_token_signing_alg_values_supported"], f"discovery: {ALG} is advertised")
    check("S256" in meta.get("code_challenge_methods_supported", []), "discovery: PKCE S256 is supported")
    r = http.get(meta["jwks_uri"], timeout=TIMEOUT)
    jwks = r.json()
    check(r.status_code == 200 and jwks.get("keys"), "JWKS served with keys")

    session = OAuth2Session(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_endpoint_auth_method=AUTH_METHOD,
        scope="openid profile email groups",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        default_timeout=TIMEOUT,
    )
    code_verifier = secrets.token_urlsafe(64)
    nonce = secrets.token_urlsafe(24)
    authorization_url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )
    query = parse_qs(urlsplit(authorization_url).query)
    check(query.get("code_challenge_method") == ["S256"] and "code_challenge" in query,
          "the authorization URL carries a PKCE S256 challenge")

    callback = sign_in(authorization_url)
    back = parse_qs(urlsplit(callback).query)
    check(back.get("iss") == [ISSUER], "the authorization response carries iss (RFC 9207)")

    # Authlib parses the response, checks state, and exchanges the code with the verifier.
    token = session.fetch_token(
        meta["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=code_verifier,
    )
    check(token.get("token_type", "").lower() == "bearer", "code exchange: token_type Bearer")
    check(token.get("access_token") and token.get("expires_in", 0) > 0, "code exchange: an access token with expires_in")
    check(token.get("refresh_token"), "code exchange: a refresh token (no offline_access asked)")
    check(token.get("id_token"), "code exchange: an ID token")

    claims = verify_id_token(token["id_token"], jwks, nonce, token["access_token"])
    check(True, "ID token: CodeIDToken validated iss, aud, exp, iat, nonce, azp and at_hash")
    check(claims.get("at_hash") == at_hash(token["access_token"], ALG), "ID token: at_hash present and matching")
    check(isinstance(claims.get("auth_time"), int) and isinstance(claims.get("sid"), str), "ID token: auth_time and sid")
    check(claims.get("preferred_username") == USERNAME, "ID token: preferred_username", claims.get("preferred_username"))
    check(isinstance(claims.get("email"), str) and claims.get("email_verified") is True, "ID token: email and email_verified")
    check(claims.get("groups") == GROUPS, "ID token: groups", claims.get("groups"))
    check(claims.get("org_id") == [ORG], "ID token: org_id", claims.get("org_id"))

    # Userinfo with the session's bearer token.
    r = session.get(meta["userinfo_endpoint"], timeout=TIMEOUT)
    check(r.status_code == 200 and r.headers.get("content-type", "").startswith("application/json"), "userinfo: 200 JSON")
    info = r.json()
    check(info.get("sub") == claims["sub"], "userinfo: sub matches the ID token")
    check(info.get("preferred_username") == USERNAME and info.get("groups") == GROUPS, "userinfo: preferred_username and groups")
    check(info.get("org_id") == [ORG], "userinfo: org_id")

    # Refresh through Authlib (it sends the session's scope, which may narrow but not widen).
    first_refresh = token["refresh_token"]
    new = session.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
    check(new.get("refresh_token") and new["refresh_token"] != first_refresh, "refresh: a new (rotated) refresh token")
    check(new.get("access_token") and new["access_token"] != token["access_token"], "refresh: a new access token")
    check(new.get("id_token"), "refresh: a new ID token")
    header_nonce = jwt.decode(new["id_token"], KeySet.import_key_set(jwks), algorithms=[ALG]).claims.get("nonce")
    check(header_nonce in (None, nonce), "refresh: the ID token nonce, if any, is the original")
    again = verify_id_token(new["id_token"], jwks, nonce if header_nonce else None, new["access_token"], IDToken)
    check(again["sub"] == claims["sub"] and again.get("auth_time") == claims.get("auth_time"),
          "refresh: ID token verified, same sub and auth_time")
    check(again.get("at_hash") == at_hash(new["access_token"], ALG), "refresh: at_hash matches the new access token")
    r = session.get(meta["userinfo_endpoint"], timeout=TIMEOUT)
    check(r.status_code == 200 and r.json().get("sub") == claims["sub"], "userinfo with the refreshed access token")

    # The spent refresh token replayed: invalid_grant.
    try:
        session.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
        error = None
    except OAuthError as e:
        error = e.error
    check(error == "invalid_grant", "refresh replay: refused with invalid_grant", error)

    # A forged ID token (one claim changed) fails the signature check.
    head, body, sig = token["id_token"].split(".")
    forged_claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged_claims["sub"] = "someone-else"
    forged_body = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    try:
        jwt.decode(f"{head}.{forged_body}.{sig}", KeySet.import_key_set(jwks), algorithms=[ALG])
        forged_ok = True
    except BadSignatureError:
        forged_ok = False
    check(not forged_ok, "a forged ID token fails the signature check")

    print(f"{TAG} all checks passed", flush=True)
    print(f"authlib: {passed} passed, 0 failed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - report any failure and exit non-zero
        print(f"{TAG} FAILED: {e}", file=sys.stderr, flush=True)
        traceback.print_exc()
        print(f"authlib: {passed} passed, 1 failed", flush=True)
        sys.exit(1)
