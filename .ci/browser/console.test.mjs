// The Admin Console walked in headless Chromium, as a person would (run by .ci/browser/run.sh).
//
// Environment: BASE_URL (the server, P), ADMIN_TOKEN (a superadmin API token, for set-up and for
// checking effects outside the browser), ROOT_PASSWORD (the password of console superadmin
// `root`), ARTIFACTS_DIR (where the screenshots go), CHROMIUM (the browser's executable).
//
// Pages are found the way a person finds them: links and buttons by their visible text, inputs by
// their <label>. Every page visited is saved as a numbered full-page screenshot.
//
// The steps run in order and share what they made. A step whose prerequisite a failed step should
// have made seeds it through the Admin API instead, so that one broken page fails its own step
// and not every step after it.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const BASE = required("BASE_URL").replace(/\/$/, "");
const TOKEN = required("ADMIN_TOKEN");
const ROOT_PASSWORD = required("ROOT_PASSWORD");
const ARTIFACTS = process.env.ARTIFACTS_DIR || path.resolve("artifacts");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const GRAFANA_REDIRECT = "https://grafana.acme.eu/login/generic_oauth";
const PASSWORDS = {
  alice: "alice-console-pass-1",
  bob: "bob-console-pass-1",
  carol: "carol-console-pass-1",
  ann: "ann-console-pass-1",
};

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run .ci/browser/run.sh)`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Helpers

let browser;
let shots = 0;
/** What the browser reported against the Content Security Policy, on any page. */
const cspViolations = [];

/** A full-page screenshot, numbered in the order taken. */
async function shot(page, name) {
  shots += 1;
  const file = path.join(ARTIFACTS, `${String(shots).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A fresh browser context (no cookies) and a page in it. */
async function freshPage(viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, baseURL: BASE });
  // A page that is there answers at once; do not wait half a minute for one that is not.
  context.setDefaultTimeout(10000);
  // Forms marked data-confirm ask window.confirm(); a person would click OK.
  context.on("page", (p) => p.on("dialog", (d) => d.accept()));
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept().catch(() => {}));
  page.on("console", (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(`${page.url()}: ${msg.text()}`);
  });
  return page;
}

/** The Admin API with the bootstrap token: the response status and parsed body. */
async function api(method, apiPath, body) {
  const response = await fetch(`${BASE}/api/v1${apiPath}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: response.status, body: json };
}

/** Like `api`, but fails unless the status is 2xx. */
async function apiOk(method, apiPath, body) {
  const r = await api(method, apiPath, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${apiPath} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The items of a (possibly paginated) Admin API list. */
function items(body) {
  return Array.isArray(body) ? body : (body?.items ?? body?.data ?? []);
}

/** POST to an OIDC endpoint of org acme with a form body and HTTP Basic client authentication. */
async function oidcPost(endpoint, clientId, secret, form) {
  const response = await fetch(`${BASE}/acme/${endpoint}`, {
    method: "POST",
    headers: {
      authorization: "Basic " + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64"),
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, body: json };
}

/** The claims of a JWT (not verified: the token came straight from the token endpoint). */
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

/** Fills and submits the sign-in page of an org's issuer. */
async function signIn(page, username, password) {
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Clicks a link of the org navigation (Overview, Users, Groups, Clients, Signing keys, Admins). */
async function orgNav(page, name) {
  await page.getByRole("navigation", { name: "Acme" }).getByRole("link", { name, exact: true }).click();
  await page.waitForLoadState();
}

/** The path of the page's URL. */
function pathOf(page) {
  return new URL(page.url()).pathname;
}

async function expectHeading(page, name) {
  await page.getByRole("heading", { level: 1, name }).waitFor({ timeout: 5000 });
}

// Shared by the steps.
const made = {
  root: null, // the page signed in as root
  users: {}, // username → id
  secret: null, // grafana's current client secret
  clientPage: null, // path of grafana's page in the console
};

async function userId(username) {
  if (made.users[username]) return made.users[username];
  const list = items(await apiOk("GET", `/organizations/acme/users?limit=100`));
  const user = list.find((u) => u.username === username);
  if (user) made.users[username] = user.id;
  return user?.id;
}

/** Makes sure org acme exists (through the API when the console step could not make it). */
async function ensureAcme() {
  if ((await api("GET", "/organizations/acme")).status === 404) {
    await apiOk("POST", "/organizations", { slug: "acme", name: "Acme" });
  }
}

async function ensureUser(username) {
  if (await userId(username)) return made.users[username];
  const user = await apiOk("POST", "/organizations/acme/users", {
    username,
    email: `${username}@acme.eu`,
    name: username[0].toUpperCase() + username.slice(1),
    password: PASSWORDS[username],
    email_verified: true,
  });
  made.users[username] = user.id;
  return user.id;
}

async function ensureGroup(name) {
  if ((await api("GET", `/organizations/acme/groups/${name}`)).status === 404) {
    await apiOk("POST", "/organizations/acme/groups", { name });
  }
}

async function groupMembers(group) {
  return items(await apiOk("GET", `/organizations/acme/groups/${group}/members`)).map(
    (m) => m.username ?? m.user?.username,
  );
}

/** Makes sure grafana is registered and its current secret known. */
async function ensureGrafana() {
  if (made.secret) return;
  if ((await api("GET", "/organizations/acme/clients/grafana")).status === 200) {
    made.secret = (await apiOk("POST", "/organizations/acme/clients/grafana/secret", { grace_period_seconds: 0 }))
      .client_secret;
    return;
  }
  made.secret = (
    await apiOk("POST", "/organizations/acme/clients", {
      client_id: "grafana",
      client_name: "Grafana",
      grant_types: ["authorization_code", "refresh_token"],
      redirect_uris: [GRAFANA_REDIRECT],
      scopes: ["openid", "profile", "email", "groups"],
      token_endpoint_auth_method: "client_secret_basic",
    })
  ).client_secret;
}

/** The root console page, signing in again in a fresh context if an earlier step lost it. */
async function rootPage() {
  if (made.root) return made.root;
  const page = await freshPage();
  await page.goto("/admin");
  await signIn(page, "root", ROOT_PASSWORD);
  await page.waitForURL((u) => u.pathname === "/admin");
  made.root = page;
  return page;
}

// ---------------------------------------------------------------------------------------------
// The walk

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
});

after(async () => {
  await browser?.close();
});

test("1. /admin sends to the console org's sign-in page; root signs in and sees Organizations", async () => {
  const page = await freshPage();
  await page.goto("/admin");
  assert.equal(pathOf(page), "/admin/login", `the sign-in page, not ${page.url()}`);
  await expectHeading(page, "Sign in");
  await shot(page, "sign-in");
  await signIn(page, "root", ROOT_PASSWORD);
  await page.waitForURL((u) => u.pathname === "/admin");
  await expectHeading(page, "Organizations");
  await shot(page, "organizations-empty");
  made.root = page;
  const response = await page.reload();
  const csp = response.headers()["content-security-policy"] ?? "";
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
});

test("2. root creates org acme; its overview lists the OIDC endpoints", async () => {
  const page = await rootPage();
  await page.getByRole("link", { name: "New organization" }).click();
  await expectHeading(page, "New organization");
  await page.getByLabel("Name", { exact: true }).fill("Acme");
  await page.getByLabel("Slug", { exact: true }).fill("acme");
  await shot(page, "org-new");
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.waitForURL((u) => u.pathname === "/admin/orgs/acme");
  await expectHeading(page, "Acme");
  const discovery = page.getByRole("row", { name: /Discovery/ });
  assert.match(await discovery.innerText(), /\/acme\/\.well-known\/openid-configuration/);
  assert.ok((await discovery.innerText()).includes(`${BASE}/acme/.well-known/openid-configuration`));
  await shot(page, "org-overview");
  const org = await apiOk("GET", "/organizations/acme");
  assert.equal(org.name, "Acme");
});

test("3. users: create alice, bob and carol; searching for bob shows only bob", async () => {
  await ensureAcme();
  const page = await rootPage();
  await page.goto("/admin/orgs/acme");
  await orgNav(page, "Users");
  await expectHeading(page, "Users");
  await shot(page, "users-empty");
  for (const username of ["alice", "bob", "carol"]) {
    await page.getByRole("link", { name: "New user" }).click();
    await expectHeading(page, "New user");
    await page.getByLabel("Username", { exact: true }).fill(username);
    await page.getByLabel("Email", { exact: true }).fill(`${username}@acme.eu`);
    await page.getByLabel("Full name", { exact: true }).fill(username[0].toUpperCase() + username.slice(1) + " Example");
    await page.getByLabel("Password (optional)", { exact: true }).fill(PASSWORDS[username]);
    if (username === "alice") await shot(page, "user-new");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.waitForLoadState();
    if (username === "alice") await shot(page, "user-created");
    assert.ok(await userId(username), `${username} exists in the Admin API`);
    await orgNav(page, "Users");
  }
  await shot(page, "users-list");
  await page.getByLabel("Search users").fill("bob");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForLoadState();
  const table = page.getByRole("table");
  const text = await table.innerText();
  assert.match(text, /bob/);
  assert.doesNotMatch(text, /alice|carol/);
  await shot(page, "users-search-bob");
});

test("4. groups: the Grafana guide's Step 3 (grafana-* groups; alice admin, bob editor)", async () => {
  await ensureAcme();
  for (const u of ["alice", "bob", "carol"]) await ensureUser(u);
  const page = await rootPage();
  await page.goto("/admin/orgs/acme");
  await orgNav(page, "Groups");
  await expectHeading(page, "Groups");
  await shot(page, "groups-empty");
  // The list page carries the "New group" form.
  for (const name of ["grafana-admins", "grafana-editors", "grafana-viewers"]) {
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Create group" }).click();
    await page.waitForLoadState();
    if (name === "grafana-admins") await shot(page, "group-created");
    await orgNav(page, "Groups");
  }
  await shot(page, "groups-list");
  for (const [group, user] of [
    ["grafana-admins", "alice"],
    ["grafana-editors", "bob"],
  ]) {
    await page.getByRole("link", { name: group, exact: true }).click();
    await expectHeading(page, `Group ${group}`);
    await page.getByLabel("Find users").fill(user);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.waitForLoadState();
    if (group === "grafana-admins") await shot(page, "group-user-picker");
    await page.getByRole("button", { name: `Add ${user}`, exact: true }).click();
    await page.waitForLoadState();
    await page.getByRole("button", { name: `Remove ${user}`, exact: true }).waitFor();
    await shot(page, `group-${group}-members`);
    await orgNav(page, "Groups");
  }
  assert.deepEqual(await groupMembers("grafana-admins"), ["alice"]);
  assert.deepEqual(await groupMembers("grafana-editors"), ["bob"]);
  assert.deepEqual(await groupMembers("grafana-viewers"), []);
});

test("5. clients: register grafana; its secret works at introspection and in a code flow", async () => {
  await ensureAcme();
  const page = await rootPage();
  await page.goto("/admin/orgs/acme");
  await orgNav(page, "Clients");
  await expectHeading(page, "Clients");
  await page.getByRole("link", { name: "Register client" }).click();
  await expectHeading(page, "Register client");
  await page.getByLabel("Client ID", { exact: true }).fill("grafana");
  await page.getByLabel("Name", { exact: true }).fill("Grafana");
  await page.getByRole("checkbox", { name: /^Authorization code/ }).check();
  await page.getByRole("checkbox", { name: /^Refresh token/ }).check();
  const clientCredentials = page.getByRole("checkbox", { name: /^Client credentials/ });
  if (await clientCredentials.isChecked()) await clientCredentials.uncheck();
  await page.getByLabel("Redirect URIs", { exact: true }).fill(GRAFANA_REDIRECT);
  await page.getByLabel("Scopes", { exact: true }).fill("openid profile email groups");
  await page.getByLabel("Client authentication").selectOption("client_secret_basic");
  await shot(page, "client-new");
  await page.getByRole("button", { name: "Register client" }).click();
  await page.waitForLoadState();
  const secret = await page.locator("#client-secret").inputValue();
  assert.match(secret, /^cs_/, "the page shows the new client secret");
  assert.equal(await page.getByLabel("Client secret").getAttribute("readonly"), "");
  await shot(page, "client-created");
  made.secret = secret;

  const client = await apiOk("GET", "/organizations/acme/clients/grafana");
  assert.equal(client.client_name, "Grafana");
  assert.deepEqual([...client.grant_types].sort(), ["authorization_code", "refresh_token"]);
  assert.deepEqual(client.redirect_uris, [GRAFANA_REDIRECT]);
  assert.deepEqual([...client.scopes].sort(), ["email", "groups", "openid", "profile"]);
  assert.equal(client.token_endpoint_auth_method, "client_secret_basic");

  const ok = await oidcPost("introspect", "grafana", secret, { token: "x" });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, { active: false });
  const wrong = await oidcPost("introspect", "grafana", secret + "x", { token: "x" });
  assert.equal(wrong.status, 401);
});

test("5b. alice signs in to Grafana through acme's issuer; the ID token carries grafana-admins", async () => {
  await ensureAcme();
  await ensureUser("alice");
  await ensureGroup("grafana-admins");
  await apiOk("PUT", `/organizations/acme/groups/grafana-admins/members/${await userId("alice")}`);
  await ensureGrafana();

  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const query = new URLSearchParams({
    client_id: "grafana",
    redirect_uri: GRAFANA_REDIRECT,
    response_type: "code",
    scope: "openid profile email groups",
    state: "s",
    nonce: "n-" + randomBytes(8).toString("hex"),
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  const page = await freshPage();
  // Grafana is not here: the browser's request to it is answered by the test, which keeps its URL.
  await page.context().route("https://grafana.acme.eu/**", (route) =>
    route.fulfill({ status: 200, contentType: "text/plain", body: "Grafana would take over here." }),
  );
  const toGrafana = page.waitForRequest((r) => r.url().startsWith(GRAFANA_REDIRECT), { timeout: 15000 });
  await page.goto(`/acme/authorize?${query}`);
  await expectHeading(page, "Sign in");
  await shot(page, "grafana-sign-in-acme");
  await signIn(page, "alice", PASSWORDS.alice);
  const callback = new URL((await toGrafana).url());
  assert.equal(callback.searchParams.get("state"), "s");
  const code = callback.searchParams.get("code");
  assert.ok(code, `a code in ${callback}`);
  await page.context().close();

  const tokens = await oidcPost("token", "grafana", made.secret, {
    grant_type: "authorization_code",
    code,
    redirect_uri: GRAFANA_REDIRECT,
    code_verifier: verifier,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  const id = claims(tokens.body.id_token);
  assert.equal(id.iss, `${BASE}/acme`);
  assert.equal(id.aud, "grafana");
  assert.equal(id.preferred_username, "alice");
  assert.ok(Array.isArray(id.groups) && id.groups.includes("grafana-admins"), `groups: ${JSON.stringify(id.groups)}`);
  assert.ok(tokens.body.refresh_token, "a refresh token (grant refresh_token)");
});

test("6. rotating grafana's secret with no grace period: the old one fails, the new one works", async () => {
  await ensureAcme();
  await ensureGrafana();
  const old = made.secret;
  const page = await rootPage();
  await page.goto("/admin/orgs/acme");
  await orgNav(page, "Clients");
  await page.getByRole("link", { name: "grafana" }).click();
  await expectHeading(page, "Grafana");
  await shot(page, "client-page");
  await page.getByLabel("Grace period (seconds)").fill("0");
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await page.waitForLoadState();
  const secret = await page.locator("#client-secret").inputValue();
  assert.match(secret, /^cs_/);
  assert.notEqual(secret, old);
  await shot(page, "client-secret-rotated");
  made.secret = secret;
  assert.equal((await oidcPost("introspect", "grafana", old, { token: "x" })).status, 401, "old secret refused");
  const fresh = await oidcPost("introspect", "grafana", secret, { token: "x" });
  assert.equal(fresh.status, 200);
  assert.deepEqual(fresh.body, { active: false });
});

test("7. signing keys: rotate", async () => {
  await ensureAcme();
  const before = items(await apiOk("GET", "/organizations/acme/keys"));
  const page = await rootPage();
  await page.goto("/admin/orgs/acme");
  await orgNav(page, "Signing keys");
  await expectHeading(page, "Signing keys");
  await shot(page, "keys");
  await page.getByRole("button", { name: "Rotate key" }).click();
  await page.waitForLoadState();
  await page.getByRole("status").waitFor();
  await shot(page, "keys-rotated");
  const afterKeys = items(await apiOk("GET", "/organizations/acme/keys"));
  assert.equal(afterKeys.length, before.length + 1, "one key more after rotation");
});

test("8. an org admin of acme sees acme only; other orgs and console accounts are 403", async () => {
  await ensureAcme();
  if ((await api("GET", "/organizations/globex")).status === 404) {
    await apiOk("POST", "/organizations", { slug: "globex", name: "Globex" });
  }
  const page = await rootPage();
  await page.goto("/admin");
  await page.getByRole("link", { name: "Console accounts" }).click();
  await expectHeading(page, "Console accounts");
  await shot(page, "accounts");
  await page.getByRole("link", { name: "New account" }).click();
  await expectHeading(page, "New account");
  await page.getByLabel("Username", { exact: true }).fill("ann");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORDS.ann);
  await page.getByRole("checkbox", { name: /^Acme/ }).check();
  await shot(page, "account-new");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForLoadState();
  await shot(page, "account-created");
  const ann = items(await apiOk("GET", "/admins")).find((a) => a.username === "ann");
  assert.ok(ann, "ann exists");
  assert.equal(ann.superadmin, false);
  assert.deepEqual(ann.orgs.map((o) => o.slug ?? o), ["acme"]);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForLoadState();
  await expectHeading(page, "Signed out");
  await shot(page, "signed-out");
  made.root = null;
  assert.notEqual((await page.goto("/admin")).url(), `${BASE}/admin`, "signed out: /admin asks to sign in");
  await page.context().close();

  const annPage = await freshPage();
  await annPage.goto("/admin");
  await signIn(annPage, "ann", PASSWORDS.ann);
  await annPage.waitForURL((u) => u.pathname === "/admin");
  const list = await annPage.getByRole("main").innerText();
  assert.match(list, /acme/);
  assert.doesNotMatch(list, /globex/i);
  assert.equal(await annPage.getByRole("link", { name: "Console accounts" }).count(), 0);
  assert.equal(await annPage.getByRole("link", { name: "New organization" }).count(), 0);
  await shot(annPage, "org-admin-home");
  const globex = await annPage.goto("/admin/orgs/globex");
  assert.equal(globex.status(), 403);
  await shot(annPage, "org-admin-other-org-403");
  const accounts = await annPage.goto("/admin/accounts");
  assert.equal(accounts.status(), 403);
  await shot(annPage, "org-admin-accounts-403");
  const acme = await annPage.goto("/admin/orgs/acme/users");
  assert.equal(acme.status(), 200);
  await annPage.context().close();
});

test("9. phone-size: the users list and a registered client", async () => {
  await ensureAcme();
  for (const u of ["alice", "bob", "carol"]) await ensureUser(u);
  const page = await freshPage(PHONE);
  await page.goto("/admin");
  await shot(page, "phone-sign-in");
  await signIn(page, "root", ROOT_PASSWORD);
  await page.waitForURL((u) => u.pathname === "/admin");
  await page.goto("/admin/orgs/acme/users");
  await expectHeading(page, "Users");
  await shot(page, "phone-users");
  await page.goto("/admin/orgs/acme/clients/_new");
  await page.getByLabel("Client ID", { exact: true }).fill("grafana-phone");
  await page.getByLabel("Name", { exact: true }).fill("Grafana (phone)");
  await page.getByLabel("Redirect URIs", { exact: true }).fill("https://grafana.acme.eu/login/generic_oauth");
  await page.getByRole("button", { name: "Register client" }).click();
  await page.waitForLoadState();
  assert.match(await page.locator("#client-secret").inputValue(), /^cs_/);
  await shot(page, "phone-client-created");
  await page.context().close();
});

test("10. no page broke the Content Security Policy (no inline script or style)", () => {
  assert.deepEqual(cspViolations, []);
});
