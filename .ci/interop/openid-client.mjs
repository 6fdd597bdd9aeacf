// Clavex against a real relying-party library: openid-client (Node, v6).
//
// The library discovers the provider, builds the authorization URL (PKCE S256, state, nonce),
// processes the authorization response (state, RFC 9207 `iss`), exchanges the code, validates the
// ID token (issuer, audience, expiry, nonce, `alg`, and its signature against the JWKS through
// enableNonRepudiationChecks), fetches userinfo (checking `sub`) and refreshes. The sign-in form
// is driven over plain HTTP as a browser would: fetch the page, keep its cookies, post the hidden
// inputs with the credentials. This script adds the checks the library leaves to the application:
// `at_hash`, Clavex's claims, refresh-token rotation and replay.
//
// Configuration (environment): RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_AUTH_METHOD
// (client_secret_basic | client_secret_post), RP_REDIRECT_URI, RP_USERNAME, RP_PASSWORD,
// RP_EXPECT_GROUPS (comma-separated, may be empty), RP_EXPECT_ALG (RS256 | ES256 | EdDSA).
// Prints each check; exits non-zero on the first failure.

import { createHash } from 'node:crypto';
import * as client from 'openid-client';

const TIMEOUT_MS = 15_000;

function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

const cfg = {
  issuer: env('RP_ISSUER'),
  clientId: env('RP_CLIENT_ID'),
  clientSecret: env('RP_CLIENT_SECRET'),
  authMethod: env('RP_AUTH_METHOD', 'client_secret_basic'),
  redirectUri: env('RP_REDIRECT_URI'),
  username: env('RP_USERNAME'),
  password: env('RP_PASSWORD'),
  groups: env('RP_EXPECT_GROUPS', '').split(',').filter(Boolean),
  alg: env('RP_EXPECT_ALG', 'RS256'),
};
const org = new URL(cfg.issuer).pathname.split('/').filter(Boolean).pop();
const tag = `[openid-client ${org} ${cfg.alg} ${cfg.authMethod}]`;

let checks = 0;
function check(condition, what, detail) {
  if (!condition) {
    throw new Error(`check failed: ${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
  }
  checks += 1;
  console.log(`${tag} ok: ${what}`);
}

function sameArray(a, b) {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** at_hash per OIDC Core 3.1.3.6: left half of the hash named by the ID token's alg. */
function atHash(accessToken, alg) {
  const hash = alg === 'EdDSA' ? 'sha512' : `sha${alg.slice(2)}`;
  const digest = createHash(hash).update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

function jwtHeader(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
}

function decodeEntities(text) {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attributes(tag) {
  const attrs = {};
  for (const m of tag.matchAll(/([^\s=<>"'/]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/** A minimal browser: keeps cookies per host, follows no redirects, gives up after a timeout. */
class Browser {
  cookies = new Map();

  async request(url, init = {}) {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const response = await fetch(url, {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

/** authorize → 302 to the sign-in page → POST the form → 303 to the redirect URI. */
async function signIn(authorizationUrl) {
  const browser = new Browser();
  let r = await browser.request(authorizationUrl);
  check(r.status === 302, 'authorize redirects to the sign-in page', r.status);
  const loginUrl = new URL(r.headers.get('location'), authorizationUrl);
  check(loginUrl.pathname === `/${org}/login`, 'the sign-in page is P/o/login', loginUrl.href);

  r = await browser.request(loginUrl);
  const html = await r.text();
  check(r.status === 200, 'the sign-in page loads', r.status);
  const formTag = html.match(/<form\b[^>]*>/i)?.[0];
  check(formTag !== undefined, 'the page has a form');
  const form = attributes(formTag);
  const fields = new URLSearchParams();
  const names = new Set();
  for (const m of html.matchAll(/<input\b[^>]*>/gi)) {
    const input = attributes(m[0]);
    if (input.name) names.add(input.name);
    if ((input.type ?? '').toLowerCase() === 'hidden' && input.name) {
      fields.append(input.name, input.value ?? '');
    }
  }
  check(names.has('username') && names.has('password'), 'the form has username and password inputs');
  check(fields.has('csrf') && fields.has('request'), 'the form carries its hidden csrf and request inputs');
  fields.append('username', cfg.username);
  fields.append('password', cfg.password);
  const action = new URL(form.action || loginUrl.href, loginUrl);
  r = await browser.request(action, {
    method: (form.method || 'post').toUpperCase(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
  });
  check(r.status === 303, 'the credentials are accepted (303)', r.status);
  const back = new URL(r.headers.get('location'), action);
  check(back.href.startsWith(`${cfg.redirectUri}?`), 'the provider redirects to the registered redirect URI', back.href);
  return back;
}

async function main() {
  const auth = cfg.authMethod === 'client_secret_post'
    ? client.ClientSecretPost(cfg.clientSecret)
    : client.ClientSecretBasic(cfg.clientSecret);
  // http is fine here (loopback test server); the library refuses it unless told so.
  const config = await client.discovery(
    new URL(cfg.issuer),
    cfg.clientId,
    { redirect_uris: [cfg.redirectUri], response_types: ['code'], id_token_signed_response_alg: cfg.alg },
    auth,
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks], timeout: TIMEOUT_MS / 1000 },
  );
  const meta = config.serverMetadata();
  check(meta.issuer === cfg.issuer, 'discovery: issuer is exactly P/o', meta.issuer);
  check(meta.code_challenge_methods_supported?.includes('S256'), 'discovery: PKCE S256 is supported');
  check(meta.id_token_signing_alg_values_supported?.includes(cfg.alg), `discovery: ${cfg.alg} is advertised`);
  check(meta.authorization_response_iss_parameter_supported === true, 'discovery: RFC 9207 iss is advertised');

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: cfg.redirectUri,
    scope: 'openid profile email groups',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  check(authorizationUrl.href.startsWith(`${cfg.issuer}/authorize?`), 'the authorization URL is P/o/authorize');

  const callback = await signIn(authorizationUrl);
  check(callback.searchParams.get('iss') === cfg.issuer, 'the authorization response carries iss (RFC 9207)');

  // The library checks state and iss, exchanges the code with the verifier, and validates the ID
  // token: signature (JWKS), alg, iss, aud, exp, iat, nonce.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  check(tokens.token_type.toLowerCase() === 'bearer', 'code exchange: token_type Bearer');
  check(typeof tokens.access_token === 'string' && tokens.expiresIn() > 0, 'code exchange: an access token with expires_in');
  check(typeof tokens.refresh_token === 'string', 'code exchange: a refresh token (no offline_access asked)');
  const claims = tokens.claims();
  check(claims !== undefined, 'code exchange: an ID token, validated by openid-client (signature, iss, aud, exp, nonce)');
  check(jwtHeader(tokens.id_token).alg === cfg.alg, `ID token: signed ${cfg.alg}`);
  check(
    claims.iss === cfg.issuer && (claims.aud === cfg.clientId || sameArray(claims.aud, [cfg.clientId])),
    'ID token: iss and aud',
  );
  check(claims.nonce === nonce, 'ID token: nonce echoed');
  check(claims.at_hash === atHash(tokens.access_token, cfg.alg), 'ID token: at_hash matches the access token', claims.at_hash);
  check(typeof claims.auth_time === 'number' && typeof claims.sid === 'string', 'ID token: auth_time and sid');
  check(claims.preferred_username === cfg.username, 'ID token: preferred_username', claims.preferred_username);
  check(typeof claims.email === 'string' && claims.email_verified === true, 'ID token: email and email_verified');
  check(sameArray(claims.groups, cfg.groups), 'ID token: groups', claims.groups);
  check(sameArray(claims.org_id, [org]), 'ID token: org_id', claims.org_id);

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  check(info.sub === claims.sub, 'userinfo: sub matches the ID token (checked by openid-client too)');
  check(info.preferred_username === cfg.username && sameArray(info.groups, cfg.groups), 'userinfo: preferred_username and groups');
  check(sameArray(info.org_id, [org]), 'userinfo: org_id');

  // Refresh: the library validates the new ID token as well.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  check(typeof refreshed.refresh_token === 'string' && refreshed.refresh_token !== tokens.refresh_token, 'refresh: a new (rotated) refresh token');
  check(refreshed.access_token !== tokens.access_token, 'refresh: a new access token');
  const again = refreshed.claims();
  check(again !== undefined && again.sub === claims.sub && again.auth_time === claims.auth_time, 'refresh: a new ID token for the same sub and auth_time');
  check(again.nonce === undefined || again.nonce === nonce, 'refresh: the ID token nonce, if any, is the original');
  check(again.exp >= claims.exp, 'refresh: the new ID token expires no earlier');
  check(again.at_hash === atHash(refreshed.access_token, cfg.alg), 'refresh: at_hash matches the new access token');
  const info2 = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  check(info2.sub === claims.sub, 'userinfo with the refreshed access token');

  // The spent refresh token replayed: invalid_grant.
  let replay;
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token);
  } catch (err) {
    replay = err;
  }
  check(replay?.error === 'invalid_grant', 'refresh replay: refused with invalid_grant', replay?.error ?? String(replay));

  // The signature check is real: a token response whose ID token has one claim changed (through
  // a fetch that tampers with it) is refused by the library.
  const forging = await client.discovery(
    new URL(cfg.issuer),
    cfg.clientId,
    { redirect_uris: [cfg.redirectUri], response_types: ['code'], id_token_signed_response_alg: cfg.alg },
    auth,
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks], timeout: TIMEOUT_MS / 1000 },
  );
  forging[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options);
    if (new URL(url).pathname !== `/${org}/token` || response.status !== 200) return response;
    const body = await response.json();
    const [head, payload, signature] = body.id_token.split('.');
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    forged.email = 'mallory@example.test';
    body.id_token = [head, Buffer.from(JSON.stringify(forged)).toString('base64url'), signature].join('.');
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  };
  const verifier2 = client.randomPKCECodeVerifier();
  const state2 = client.randomState();
  const nonce2 = client.randomNonce();
  const callback2 = await signIn(client.buildAuthorizationUrl(forging, {
    redirect_uri: cfg.redirectUri,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier2),
    code_challenge_method: 'S256',
    state: state2,
    nonce: nonce2,
  }));
  let forgedError;
  try {
    await client.authorizationCodeGrant(forging, callback2, {
      pkceCodeVerifier: verifier2,
      expectedState: state2,
      expectedNonce: nonce2,
    });
  } catch (err) {
    forgedError = err;
  }
  const reason = `${forgedError?.cause?.code ?? forgedError?.code}: ${forgedError?.cause?.message ?? forgedError?.message}`;
  check(/signature/i.test(reason), `a forged ID token is refused by openid-client (${reason})`, String(forgedError));

  console.log(`${tag} all checks passed`);
  console.log(`openid-client: ${checks} passed, 0 failed`);
}

main().catch((err) => {
  console.error(`${tag} FAILED: ${err?.stack ?? err}`);
  if (err?.cause) console.error(`${tag} cause: ${JSON.stringify(err.cause)}`);
  console.log(`openid-client: ${checks} passed, 1 failed`);
  process.exit(1);
});
