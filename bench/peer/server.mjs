// The peer of bench/run: panva's oidc-provider, configured as close to Clavex as it allows, so that
// clavex-bench can run the same workloads against both.
//
//   PEER_PORT=N PEER_FIXTURE=FILE node bench/peer/server.mjs
//
// Listens on 127.0.0.1:N (issuer http://127.0.0.1:N) and, once listening, writes FILE: the client
// ids, secrets and the user that clavex-bench uses (`--peer FILE`). Secrets are random per start.
//
// Equivalence with Clavex (see docs/performance.md for what is not equivalent):
// - ID tokens RS256 (client `app`, `app-ui`); JWT access tokens RS256 (resource urn:bench:rs256,
//   the default resource of `app` and `svc-rs256`) or ES256 (urn:bench:es256, `svc-es256`).
// - Refresh tokens without offline_access, rotated on every use (reuse revokes the grant).
// - A sign-in form on the interaction routes; passwords checked with Argon2id at Clavex's
//   parameters (m=19456 KiB, t=2, p=1) through the npm `argon2` package, off the event loop.
//   A sign-in grants the requested scopes at once (Clavex has no consent screen).
// - An in-memory adapter without a size bound (the built-in one evicts past 1,000 entries).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';

import argon2 from 'argon2';
import Provider from 'oidc-provider';
import MemoryAdapter, { setStorage } from 'oidc-provider/lib/adapters/memory_adapter.js';

// The built-in memory adapter over an unbounded store (below); a subclass so that oidc-provider
// does not mistake it for its development default and warn.
class BenchAdapter extends MemoryAdapter {}

const port = Number(process.env.PEER_PORT);
const fixturePath = process.env.PEER_FIXTURE;
if (!Number.isInteger(port) || port <= 0 || !fixturePath) {
  console.error('set PEER_PORT (a port number) and PEER_FIXTURE (a file to write)');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// Clavex's Argon2id parameters (crates/clavex-crypto/src/password.rs).
const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

const secret = () => `cs_${randomBytes(32).toString('base64url')}`;
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const SIGNIN_SCOPE = 'openid profile email groups';
const fixture = {
  issuer,
  machine: {
    RS256: { client_id: 'svc-rs256', client_secret: secret(), scope: 'api' },
    ES256: { client_id: 'svc-es256', client_secret: secret(), scope: 'api' },
  },
  signin: {
    client_id: 'app',
    client_secret: secret(),
    redirect_uri: REDIRECT_URI,
    username: 'bench',
    password: `pw-${randomBytes(12).toString('base64url')}`,
  },
  // oidc-provider's userinfo accepts only opaque access tokens issued without a resource, so the
  // userinfo workload gets its token through this client.
  userinfo: { client_id: 'app-ui', client_secret: secret() },
};

const users = new Map([
  [
    fixture.signin.username,
    {
      id: 'u-bench',
      hash: await argon2.hash(fixture.signin.password, ARGON2),
      claims: {
        name: 'Bench',
        preferred_username: fixture.signin.username,
        updated_at: Math.floor(Date.now() / 1000),
        email: 'bench@bench.test',
        email_verified: false,
        groups: [],
      },
    },
  ],
]);
const usersById = new Map([...users.values()].map((u) => [u.id, u]));
// Unknown usernames still cost one verification, as in Clavex.
const dummyHash = await argon2.hash(randomBytes(16).toString('hex'), ARGON2);

// Store for the built-in memory adapter: a Map with expiry, swept every 10 s, never evicting live
// entries (the default LRU keeps 1,000, which the load would overflow).
class ExpiringStore {
  #map = new Map();

  constructor() {
    setInterval(() => {
      const now = Date.now();
      for (const [k, v] of this.#map) if (v.expiry !== undefined && v.expiry <= now) this.#map.delete(k);
    }, 10_000).unref();
  }

  get(key) {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.expiry !== undefined && entry.expiry <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, options) {
    const expiry = options?.maxAge === undefined ? undefined : Date.now() + options.maxAge;
    this.#map.set(key, { value, expiry });
  }

  delete(key) {
    this.#map.delete(key);
  }
}
setStorage(new ExpiringStore());

const jwk = (type, options, kid) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
});

const RESOURCES = {
  'urn:bench:rs256': 'RS256',
  'urn:bench:es256': 'ES256',
};
const DEFAULT_RESOURCE = {
  'svc-rs256': 'urn:bench:rs256',
  'svc-es256': 'urn:bench:es256',
  app: 'urn:bench:rs256',
};

const confidential = (client_id, client_secret, extra) => ({
  client_id,
  client_secret,
  token_endpoint_auth_method: 'client_secret_basic',
  ...extra,
});
const codeClient = {
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [REDIRECT_URI],
  id_token_signed_response_alg: 'RS256',
};
const machineClient = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api' };

const provider = new Provider(issuer, {
  adapter: BenchAdapter,
  jwks: {
    keys: [
      jwk('rsa', { modulusLength: 2048 }, 'rs256-1'),
      jwk('ec', { namedCurve: 'P-256' }, 'es256-1'),
    ],
  },
  clients: [
    confidential('app', fixture.signin.client_secret, codeClient),
    confidential('app-ui', fixture.userinfo.client_secret, codeClient),
    confidential('svc-rs256', fixture.machine.RS256.client_secret, machineClient),
    confidential('svc-es256', fixture.machine.ES256.client_secret, machineClient),
  ],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', 'api'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'updated_at'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Clavex puts the scope's claims in the ID token as well as in userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    userinfo: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, client, oneOf) => oneOf ?? DEFAULT_RESOURCE[client.clientId],
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => {
        const alg = RESOURCES[resource];
        if (!alg) throw new Provider.errors.InvalidTarget();
        return {
          scope: `api ${SIGNIN_SCOPE}`,
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  findAccount: async (_ctx, id) => {
    const user = usersById.get(id);
    if (!user) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...user.claims }) };
  },
  interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // Clavex's defaults (docs/configuration.md); codes and interactions as short as Clavex's.
  ttl: {
    AccessToken: 300,
    ClientCredentials: 300,
    IdToken: 300,
    RefreshToken: 30 * 24 * 3600,
    Session: 10 * 3600,
    Grant: 30 * 24 * 3600,
    AuthorizationCode: 60,
    Interaction: 30 * 60,
  },
  renderError: async (ctx, out) => {
    ctx.type = 'text/plain';
    ctx.body = `${out.error}: ${out.error_description ?? ''}`;
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const loginPage = (uid, error) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form></body></html>`;

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

// GET /interaction/:uid shows the form; POST /interaction/:uid/login checks the password and
// finishes the interaction with both login and consent (one grant for the requested scopes).
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'interaction mismatch');
  if (req.method === 'GET' && !action) return send(res, 200, loginPage(uid));
  if (req.method !== 'POST' || action !== 'login') return send(res, 405, 'method not allowed');

  const form = await readForm(req);
  const user = users.get(form.get('username') ?? '');
  const ok = await argon2.verify(user?.hash ?? dummyHash, form.get('password') ?? '');
  if (!user || !ok) return send(res, 200, loginPage(uid, 'Wrong username or password.'));

  const { params } = details;
  const grant = new provider.Grant({ accountId: user.id, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope ?? ''));
  const resource = DEFAULT_RESOURCE[params.client_id];
  if (resource) grant.addResourceScope(resource, String(params.scope ?? ''));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.id }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/([a-z]+))?$/.exec(req.url.split('?')[0]);
  if (!match) return callback(req, res);
  interaction(req, res, match[1], match[2]).catch((err) => {
    console.error('interaction error', err);
    if (!res.headersSent) send(res, 400, 'interaction failed');
    else res.end();
  });
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1', () => {
  writeFileSync(fixturePath, JSON.stringify(fixture, null, 2), { mode: 0o600 });
  console.log(`oidc-provider ${issuer} ready (pid ${process.pid})`);
});
